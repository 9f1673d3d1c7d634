"""French messages of the admin pages: English text -> French text (fields in braces stay as they are)."""

from smb_suite.web.i18n.fr_collaboration import COLLABORATION

MESSAGES: dict[str, str] = {
    # -- frame, sign-in, sign-up --------------------------------------------------------------------------
    "Skip to the content": "Aller au contenu",
    "Sections": "Rubriques",
    "Home": "Accueil",
    "Websites": "Sites web",
    "Website": "Site web",
    "My account": "Mon compte",
    "Audit log": "Journal des modifications",
    "Signed in as {address}": "Connecté en tant que {address}",
    "Sign out": "Se déconnecter",
    "Sign in": "Se connecter",
    "Mail address": "Adresse e-mail",
    "Password": "Mot de passe",
    "New here?": "Nouveau ?",
    "Create your business's mail and website": "Créez la messagerie et le site de votre entreprise",
    "Sign up": "Inscription",
    "Your business's mail and website": "La messagerie et le site de votre entreprise",
    "One form and you have a mailbox and a website with your name, your look and your contact details. You can "
    "attach your own domain later.": (
        "Un seul formulaire et vous avez une boîte mail et un site web à votre nom, à votre goût, avec vos "
        "coordonnées. Vous pourrez ajouter votre propre domaine plus tard."
    ),
    "What you do (optional, like bakery or plumber)": "Votre activité (facultatif, comme boulangerie ou plombier)",
    "Phone (optional)": "Téléphone (facultatif)",
    "Town or address (optional)": "Ville ou adresse (facultatif)",
    "The look of your website (you can change it later)": "L'allure de votre site (vous pourrez la changer ensuite)",
    "Picture of the {name} theme": "Aperçu du thème {name}",
    "Business name": "Nom de l'entreprise",
    "Identifier (your address will be owner@IDENTIFIER.{platform})": (
        "Identifiant (votre adresse sera owner@IDENTIFIANT.{platform})"
    ),
    "Create my business": "Créer mon entreprise",
    "Back to the admin pages": "Retour à l'administration",
    # -- account ------------------------------------------------------------------------------------------
    "Your account": "Votre compte",
    "Storage used by your mailbox": "Espace utilisé par votre boîte mail",
    "{used} of {limit}": "{used} sur {limit}",
    "Change your password": "Changer votre mot de passe",
    "Current password": "Mot de passe actuel",
    "New password (at least 8 characters)": "Nouveau mot de passe (au moins 8 caractères)",
    "Change password": "Changer le mot de passe",
    "Set up your mail app": "Configurer votre logiciel de messagerie",
    "Thunderbird and Outlook find these settings themselves from your address. On an iPhone, iPad or Mac, "
    "install the profile.": (
        "Thunderbird et Outlook trouvent ces réglages seuls à partir de votre adresse. Sur iPhone, iPad ou Mac, "
        "installez le profil."
    ),
    "Download the profile for Apple devices": "Télécharger le profil pour appareils Apple",
    "Settings to enter by hand": "Réglages à saisir à la main",
    "Service": "Service",
    "Server": "Serveur",
    "Port": "Port",
    "Security": "Sécurité",
    "Incoming mail (IMAP)": "Courrier entrant (IMAP)",
    "Outgoing mail (SMTP)": "Courrier sortant (SMTP)",
    "User name: your full mail address. Password: your password, or better an app password below.": (
        "Nom d'utilisateur : votre adresse complète. Mot de passe : le vôtre, ou mieux un mot de passe "
        "d'application ci-dessous."
    ),
    "App passwords": "Mots de passe d'application",
    "An app password lets one app sign in (mail, calendars, contacts and documents; never these pages). "
    "Revoke it if the device is lost.": (
        "Un mot de passe d'application permet à une application de se connecter (messagerie, agendas, contacts "
        "et documents ; jamais ces pages). Révoquez-le si l'appareil est perdu."
    ),
    "Name": "Nom",
    "Actions": "Actions",
    "Revoke {name}": "Révoquer {name}",
    "Revoke": "Révoquer",
    "Name of the device or app (like 'phone')": "Nom de l'appareil ou du logiciel (par exemple « téléphone »)",
    "Create an app password": "Créer un mot de passe d'application",
    "Your new app password": "Votre nouveau mot de passe d'application",
    "Enter it in the mail app named {name} now: it is shown only once.": (
        "Saisissez-le maintenant dans le logiciel nommé {name} : il n'est affiché qu'une fois."
    ),
    "Copy": "Copier",
    "Back to your account": "Retour à votre compte",
    # -- audit --------------------------------------------------------------------------------------------
    "Every change: who made it, when, and from which address.": (
        "Chaque modification : qui l'a faite, quand, et depuis quelle adresse."
    ),
    "When (UTC)": "Quand (UTC)",
    "Who": "Qui",
    "From": "Depuis",
    "Business": "Entreprise",
    "What": "Quoi",
    "Object": "Objet",
    "Nothing was changed yet.": "Rien n'a encore été modifié.",
    # -- business -----------------------------------------------------------------------------------------
    "Your business": "Votre entreprise",
    "Business {name}": "Entreprise {name}",
    "Back to the businesses": "Retour aux entreprises",
    "Storage and tier": "Espace et formule",
    "Tier {tier}": "Formule {tier}",
    "Storage of the business": "Espace de l'entreprise",
    "Tiers on offer": "Formules proposées",
    "Tier": "Formule",
    "Storage": "Espace",
    "Price": "Prix",
    "yours": "la vôtre",
    "Move to tier": "Passer à la formule",
    "Change tier": "Changer de formule",
    "To upgrade, contact {contact}.": "Pour changer de formule, contactez {contact}.",
    "your provider": "votre hébergeur",
    "Mailboxes of your business": "Boîtes mail de votre entreprise",
    "Role": "Rôle",
    "Operator": "Opérateur",
    "Partner": "Partenaire",
    "Owner": "Propriétaire",
    "User": "Utilisateur",
    "Storage of {address}": "Espace de {address}",
    "Reset password": "Réinitialiser le mot de passe",
    "New password for {address}": "Nouveau mot de passe pour {address}",
    "Set password": "Définir le mot de passe",
    "Delete {address} and all its mail?": "Supprimer {address} et tout son courrier ?",
    "Delete {address}": "Supprimer {address}",
    "Delete": "Supprimer",
    "New mailbox": "Nouvelle boîte mail",
    "Name before the @": "Nom avant le @",
    "Domain": "Domaine",
    "Password (at least 8 characters)": "Mot de passe (au moins 8 caractères)",
    "Add mailbox": "Ajouter la boîte mail",
    "Aliases": "Alias",
    "An alias delivers its mail to another address, like sales@ to a colleague.": (
        "Un alias transmet son courrier à une autre adresse, par exemple ventes@ à un collègue."
    ),
    "Alias": "Alias",
    "Delivers to": "Distribue à",
    "Remove the alias {alias}": "Retirer l'alias {alias}",
    "Remove": "Retirer",
    "Alias address": "Adresse de l'alias",
    "Add alias": "Ajouter l'alias",
    "Domains": "Domaines",
    "DNS records": "Enregistrements DNS",
    "Add your own domain (like my-shop.com)": "Ajouter votre propre domaine (par exemple ma-boutique.fr)",
    "Add domain": "Ajouter le domaine",
    # -- DNS ----------------------------------------------------------------------------------------------
    "DNS records of {domain}": "Enregistrements DNS de {domain}",
    "Back to the business": "Retour à l'entreprise",
    "Add these records at the company where you bought the domain (its DNS zone). Then check them here.": (
        "Ajoutez ces enregistrements chez la société où vous avez acheté le domaine (sa zone DNS). "
        "Puis vérifiez-les ici."
    ),
    "Download as a zone file": "Télécharger en fichier de zone",
    "Check the records now": "Vérifier les enregistrements maintenant",
    "Pending: prove that {domain} is yours": "En attente : prouvez que {domain} est à vous",
    "Until this record is found, the domain receives no mail, cannot send, and its website is not shown.": (
        "Tant que cet enregistrement n'est pas trouvé, le domaine ne reçoit aucun courrier, ne peut pas en envoyer "
        "et son site n'est pas affiché."
    ),
    "We also look for it by ourselves every few minutes.": "Nous le cherchons aussi nous-mêmes régulièrement.",
    "Check now": "Vérifier maintenant",
    "The domain is verified: it receives mail and its website is shown.": (
        "Le domaine est vérifié : il reçoit du courrier et son site est affiché."
    ),
    "The domain is added. It is pending until you publish the TXT record below.": (
        "Le domaine est ajouté. Il reste en attente tant que vous n'avez pas publié l'enregistrement TXT ci-dessous."
    ),
    "The verification record was not found yet. DNS changes take a while: try again later.": (
        "L'enregistrement de vérification n'est pas encore trouvé. Les changements DNS prennent du temps : "
        "réessayez plus tard."
    ),
    "Verified": "Vérifié",
    "Pending verification": "En attente de vérification",
    "Purpose": "Rôle",
    "Type": "Type",
    "Value": "Valeur",
    "Status": "État",
    "found": "trouvé",
    "Zone file": "Fichier de zone",
    "Certificate (HTTPS, IMAP, SMTP)": "Certificat (HTTPS, IMAP, SMTP)",
    "Obtained automatically; renewed 30 days before it expires.": (
        "Obtenu automatiquement ; renouvelé 30 jours avant son expiration."
    ),
    "Being requested: it is used within minutes once these names point at this server.": (
        "En cours de demande : il est utilisé quelques minutes après que ces noms pointent vers ce serveur."
    ),
    "Could not be obtained. These names must point at this server (their DNS A or AAAA records).": (
        "Impossible de l'obtenir. Ces noms doivent pointer vers ce serveur (leurs enregistrements DNS A ou AAAA)."
    ),
    "Names:": "Noms :",
    "Valid until {date}": "Valide jusqu'au {date}",
    "Attempt {count} failed: {error}": "La tentative {count} a échoué : {error}",
    "Next try: {date}": "Prochain essai : {date}",
    "Present": "Présent",
    "Missing": "Absent",
    "Wrong": "Incorrect",
    "Could not check": "Vérification impossible",
    "Mail for the domain comes to this server": "Le courrier du domaine arrive sur ce serveur",
    "Which servers may send its mail (SPF)": "Quels serveurs peuvent envoyer son courrier (SPF)",
    "Signature key of its mail (DKIM)": "Clé de signature de son courrier (DKIM)",
    "What receivers do with forged mail (DMARC)": "Ce que font les destinataires du courrier falsifié (DMARC)",
    "Visitors reach the website": "Les visiteurs trouvent le site web",
    "Warning:": "Attention :",
    "the server hostname is {host}: set [server] hostname to this server's public name "
    "(MX and SRV records point at it)": (
        "le nom du serveur est {host} : indiquez dans [server] hostname son nom public "
        "(les enregistrements MX et SRV le désignent)"
    ),
    "no address was found for {host}: set [server] public_addresses, or publish its A/AAAA records, "
    "to get the website's records": (
        "aucune adresse trouvée pour {host} : indiquez [server] public_addresses, ou publiez ses "
        "enregistrements A/AAAA, pour obtenir ceux du site web"
    ),
    "{addresses}: not public internet addresses, visitors cannot reach the website there": (
        "{addresses} : ce ne sont pas des adresses publiques d'internet, les visiteurs n'y trouveront pas le site"
    ),
    "Mail apps find their settings": "Les logiciels de messagerie trouvent leurs réglages",
    "Mail apps find the servers (SRV)": "Les logiciels de messagerie trouvent les serveurs (SRV)",
    "Calendar and contacts apps find the server (SRV, TXT)": (
        "Les applications d'agenda et de contacts trouvent le serveur (SRV, TXT)"
    ),
    # -- calendars, contacts and documents (the account page) ---------------------------------------------
    "Calendars, contacts and documents": "Agendas, contacts et documents",
    "Phones (iPhone accounts, DAVx5 on Android), Thunderbird and Outlook (with CalDAV Synchronizer) find your "
    "calendars, address books and task lists at this address; sign in with your mail address and your password "
    "or an app password. The profile for Apple devices sets them up too.": (
        "Les téléphones (comptes de l'iPhone, DAVx5 sous Android), Thunderbird et Outlook (avec CalDAV "
        "Synchronizer) trouvent vos agendas, carnets d'adresses et listes de tâches à cette adresse ; connectez-vous "
        "avec votre adresse de messagerie et votre mot de passe ou un mot de passe d'application. Le profil pour "
        "appareils Apple les configure aussi."
    ),
    "Calendars and contacts (CalDAV, CardDAV)": "Agendas et contacts (CalDAV, CardDAV)",
    "Documents (WebDAV): Shared and your own folder": "Documents (WebDAV) : Shared et votre dossier personnel",
    "Other servers always send with encryption (MTA-STS)": "Les autres serveurs envoient toujours chiffré (MTA-STS)",
    # -- businesses (operator, partner) -------------------------------------------------------------------
    "Businesses": "Entreprises",
    "Search by name or domain": "Rechercher par nom ou domaine",
    "Search": "Rechercher",
    "State": "État",
    "partner: {name}": "partenaire : {name}",
    "Storage of {name}": "Espace de {name}",
    "Suspended": "Suspendue",
    "Active": "Active",
    "Tier of {name}": "Formule de {name}",
    "Resume {name}": "Réactiver {name}",
    "Suspend {name}": "Suspendre {name}",
    "Resume": "Réactiver",
    "Suspend": "Suspendre",
    "No business found.": "Aucune entreprise trouvée.",
    "New business for a customer": "Nouvelle entreprise pour un client",
    "Its domain": "Son domaine",
    "Owner's mail address": "Adresse e-mail du propriétaire",
    "Owner's password (at least 8 characters)": "Mot de passe du propriétaire (au moins 8 caractères)",
    "Create business": "Créer l'entreprise",
    "Partner managing this business (its business name; empty: none)": (
        "Partenaire qui gère cette entreprise (nom de son entreprise ; vide : aucun)"
    ),
    "Save partner": "Enregistrer le partenaire",
    # -- notices ------------------------------------------------------------------------------------------
    "Saved.": "Enregistré.",
    "The password is changed.": "Le mot de passe est changé.",
    "The mailbox is ready: it can receive mail and sign in now.": (
        "La boîte mail est prête : elle peut recevoir du courrier et se connecter dès maintenant."
    ),
    "The mailbox and its mail are deleted.": "La boîte mail et son courrier sont supprimés.",
    "The alias is added.": "L'alias est ajouté.",
    "The alias is removed.": "L'alias est retiré.",
    "The domain is added: publish the DNS records below.": (
        "Le domaine est ajouté : publiez les enregistrements DNS ci-dessous."
    ),
    "The app password is revoked.": "Le mot de passe d'application est révoqué.",
    "The tier is changed.": "La formule est changée.",
    "The business is suspended.": "L'entreprise est suspendue.",
    "The business is active again.": "L'entreprise est de nouveau active.",
    "The business is created.": "L'entreprise est créée.",
    "Welcome! Your mailbox and your website are ready.": "Bienvenue ! Votre boîte mail et votre site web sont prêts.",
    "Saved. Preview it, then publish to make it live.": (
        "Enregistré. Prévisualisez, puis publiez pour le mettre en ligne."
    ),
    "Published: the new version is live.": "Publié : la nouvelle version est en ligne.",
    "Rolled back: the previous version is live again.": "Version précédente rétablie : elle est de nouveau en ligne.",
    "Your uploaded site is live.": "Votre site envoyé est en ligne.",
    "Page deleted.": "Page supprimée.",
    "Page added. Write its text below.": "Page ajoutée. Écrivez son texte ci-dessous.",
    # -- error pages and messages -------------------------------------------------------------------------
    "Bad Request": "Requête incorrecte",
    "Unauthorized": "Non autorisé",
    "Forbidden": "Interdit",
    "Not Found": "Introuvable",
    "Method Not Allowed": "Méthode non autorisée",
    "Request Entity Too Large": "Requête trop volumineuse",
    "Content Too Large": "Contenu trop volumineux",
    "Internal Server Error": "Erreur interne du serveur",
    "Service Unavailable": "Service indisponible",
    "Conflict": "Conflit",
    "wrong user name or password": "nom d'utilisateur ou mot de passe incorrect",
    "this business is suspended: ask your provider": "cette entreprise est suspendue : contactez votre hébergeur",
    "This form has expired or was not sent from this site, so nothing was changed. Reload the page and try again.": (
        "Ce formulaire a expiré ou ne vient pas de ce site : rien n'a été modifié. Rechargez la page et réessayez."
    ),
    "Something went wrong on our side. Please try again later.": (
        "Un problème est survenu de notre côté. Veuillez réessayer plus tard."
    ),
    "This page does not exist.": "Cette page n'existe pas.",
    "No website is published at this address.": "Aucun site web n'est publié à cette adresse.",
    "This website is temporarily unavailable.": "Ce site web est temporairement indisponible.",
    "Sign-up is not open on this server.": "L'inscription n'est pas ouverte sur ce serveur.",
    "Too many sign-ups from your address: try again in an hour.": (
        "Trop d'inscriptions depuis votre adresse : réessayez dans une heure."
    ),
    "the current password is not right: nothing was changed": (
        "le mot de passe actuel est incorrect : rien n'a été modifié"
    ),
    "the password needs at least 8 characters": "le mot de passe doit compter au moins 8 caractères",
    "the password must not be empty": "le mot de passe ne doit pas être vide",
    "this belongs to another business": "ceci appartient à une autre entreprise",
    "this domain is not one of yours": "ce domaine n'est pas l'un des vôtres",
    "this business is not one of yours": "cette entreprise n'est pas l'une des vôtres",
    "only the operator or the business's partner may do this": (
        "seul l'opérateur ou le partenaire de l'entreprise peut faire cela"
    ),
    "only the operator and partners list businesses": "seuls l'opérateur et les partenaires listent les entreprises",
    "only an owner of the business may do this": "seul un propriétaire de l'entreprise peut faire cela",
    "only owners and the operator read the audit log": (
        "seuls les propriétaires et l'opérateur lisent le journal des modifications"
    ),
    "you may only manage your own account": "vous ne pouvez gérer que votre propre compte",
    "you cannot suspend your own business": "vous ne pouvez pas suspendre votre propre entreprise",
    "Only an owner of the business edits its website.": "Seul un propriétaire de l'entreprise modifie son site web.",
    "give the name before the @ only, like 'anna'": "indiquez seulement le nom avant le @, par exemple « anna »",
    "the identifier has 2 to 40 lower-case letters, digits or inner hyphens, like 'my-shop'": (
        "l'identifiant a de 2 à 40 lettres minuscules, chiffres ou tirets intérieurs, par exemple « ma-boutique »"
    ),
    # -- website editor -----------------------------------------------------------------------------------
    "(of {theme}; other themes start with their first)": (
        "(de {theme} ; les autres thèmes commencent par leurs premières)"
    ),
    ": you have one": " : vous en avez un",
    "A .zip file with an index.html at its top, at most {size} unpacked. It replaces the live site (until you "
    "publish from the editor again); the previous version is kept for rollback.": (
        "Un fichier .zip avec un index.html à sa racine, au plus {size} décompressé. Il remplace le site en ligne "
        "(jusqu'à votre prochaine publication depuis l'éditeur) ; la version précédente est gardée pour revenir "
        "en arrière."
    ),
    "Add page": "Ajouter la page",
    "Address": "Adresse",
    "Address (like about-us: the page will be at /about-us/)": (
        "Adresse (par exemple a-propos : la page sera à /a-propos/)"
    ),
    "Back to the mailboxes": "Retour aux boîtes mail",
    "Back to the website": "Retour au site web",
    "Business information": "Informations sur l'entreprise",
    "Colours": "Couleurs",
    "Contact page with a form that sends messages to your mailbox": (
        "Page de contact avec un formulaire qui envoie les messages à votre boîte mail"
    ),
    "Delete {title}": "Supprimer {title}",
    "Description for search engines and link previews": (
        "Description pour les moteurs de recherche et les aperçus de liens"
    ),
    "Down": "Descendre",
    "Edit page “{title}”": "Modifier la page « {title} »",
    "Edit {title}": "Modifier {title}",
    "Language of the site (like en, de, fr)": "Langue du site (par exemple fr, en, de)",
    "Layout": "Mise en page",
    "Live version: {version}.": "Version en ligne : {version}.",
    "Logo": "Logo",
    "Logo image (PNG, JPEG, WebP or GIF, at most 512 KB)": "Image du logo (PNG, JPEG, WebP ou GIF, au plus 512 Ko)",
    "Mail address shown on the site (contact messages go to it if it is one of your mailboxes)": (
        "Adresse e-mail affichée sur le site (les messages de contact y arrivent si c'est une de vos boîtes mail)"
    ),
    "Move {title} down": "Descendre {title}",
    "Move {title} up": "Monter {title}",
    "New page": "Nouvelle page",
    "Opening hours (one line each)": "Horaires d'ouverture (une ligne chacun)",
    "Page": "Page",
    "Pages (in menu order)": "Pages (dans l'ordre du menu)",
    "Phone": "Téléphone",
    "Preview and publish": "Prévisualiser et publier",
    "Preview the site": "Prévisualisez le site",
    "Publish": "Publier",
    "Remove the logo": "Retirer le logo",
    "Roll back to the previous version": "Revenir à la version précédente",
    "Save information": "Enregistrer les informations",
    "Save page": "Enregistrer la page",
    "Save theme": "Enregistrer le thème",
    "Short description (search engines, link previews)": "Description courte (moteurs de recherche, aperçus de liens)",
    "Show in the menu": "Afficher dans le menu",
    "Site archive (.zip)": "Archive du site (.zip)",
    "Storage: {used} of {limit} used ({tier} tier).": "Espace : {used} sur {limit} utilisés (formule {tier}).",
    "Tagline": "Slogan",
    "Text (Markdown: # heading, **bold**, *italic*, - lists, [link](https://…), ![description](/path))": (
        "Texte (Markdown : # titre, **gras**, *italique*, - listes, [lien](https://…), ![description](/chemin))"
    ),
    "Theme": "Thème",
    "Theme and colours": "Thème et couleurs",
    "Title": "Titre",
    "Up": "Monter",
    "Upload a hand-made site instead": "Envoyer plutôt un site fait main",
    "Upload and publish": "Envoyer et publier",
    "Upload logo": "Envoyer le logo",
    "Website {domain}": "Site web {domain}",
    "Websites of your business": "Sites web de votre entreprise",
    "Your business has no domain yet.": "Votre entreprise n'a pas encore de domaine.",
    "Your changes below are saved as a draft.": "Vos modifications ci-dessous sont enregistrées comme brouillon.",
    "as it will look, then publish it. Publishing is instant and the previous version is kept.": (
        "tel qu'il apparaîtra, puis publiez-le. La publication est immédiate et la version précédente est gardée."
    ),
    "none yet": "aucune pour l'instant",
    "not in menu": "hors du menu",
    "the home page": "la page d'accueil",
    # -- forwarding, vacation, catch-all ------------------------------------------------------------------
    "Forwarding": "Transfert",
    "Your mail goes to {target}.": "Votre courrier est transféré à {target}.",
    "A copy stays here.": "Une copie reste ici.",
    "Your mail stays in this mailbox.": "Votre courrier reste dans cette boîte.",
    "Forward my mail to": "Transférer mon courrier à",
    "Keep a copy here": "Garder une copie ici",
    "Save forwarding": "Enregistrer le transfert",
    "Stop forwarding": "Arrêter le transfert",
    "Vacation reply": "Réponse d'absence",
    "While it is on, each sender gets this answer at most once every {days} days; mailing lists and automatic "
    "mail get none.": (
        "Tant qu'elle est active, chaque expéditeur reçoit cette réponse au plus une fois tous les {days} jours ; "
        "les listes de diffusion et le courrier automatique n'en reçoivent pas."
    ),
    "Off: nobody gets an automatic answer.": "Désactivée : personne ne reçoit de réponse automatique.",
    "Subject": "Objet",
    "Out of office": "Absent du bureau",
    "Message": "Message",
    "Turn the vacation reply on": "Activer la réponse d'absence",
    "Save the vacation reply": "Enregistrer la réponse d'absence",
    "Turn the vacation reply off": "Désactiver la réponse d'absence",
    "Catch-all": "Adresse fourre-tout",
    "Mail to an address that does not exist is refused, unless a catch-all address takes it.": (
        "Le courrier pour une adresse qui n'existe pas est refusé, sauf si une adresse fourre-tout le reçoit."
    ),
    "Unknown addresses of {domain} go to": "Les adresses inconnues de {domain} vont à",
    "Save": "Enregistrer",
    "Turn off the catch-all of {domain}": "Désactiver l'adresse fourre-tout de {domain}",
    "Turn off": "Désactiver",
    "Forwarding is saved.": "Le transfert est enregistré.",
    "Your vacation reply is on.": "Votre réponse d'absence est activée.",
    "Your vacation reply is off.": "Votre réponse d'absence est désactivée.",
    "The catch-all address is saved.": "L'adresse fourre-tout est enregistrée.",
    # -- the owner's journey: dashboard groups, editor ---------------------------------------------------------
    "Parts of your business": "Parties de votre entreprise",
    "Mail": "Messagerie",
    "Edit the website {domain}": "Modifier le site {domain}",
    "See it live": "Le voir en ligne",
    "{used} ({percent}% of the business's {total})": "{used} ({percent} % des {total} de l'entreprise)",
    "Live version: published on {when} at sign-up.": "Version en ligne : publiée le {when}, à l'inscription.",
    "Live version: published on {when} by {who}.": "Version en ligne : publiée le {when} par {who}.",
    "Live version: published on {when}.": "Version en ligne : publiée le {when}.",
    "Nothing is published yet.": "Rien n'est encore publié.",
    "One column": "Une colonne",
    "One wide column": "Une colonne large",
    "Welcome page, with the opening hours": "Page d'accueil, avec les horaires",
    "Text": "Texte",
    "Text with an information card beside it": "Texte avec une carte d'informations à côté",
    "Full width, without the card": "Pleine largeur, sans la carte",
    # -- billing: self-service, statements -----------------------------------------------------------------
    "Subscription": "Abonnement",
    "Plan {plan}": "Offre {plan}",
    "No plan": "Sans offre",
    "{name}: {price}": "{name} : {price}",
    "per user per month": "par utilisateur et par mois",
    "per month": "par mois",
    "Upgrade storage": "Agrandir l'espace",
    "Add": "Ajouter",
    "Back to the smaller storage": "Revenir à l'espace plus petit",
    "The subscription is changed. Your provider is told.": "L'abonnement est modifié. Votre fournisseur est prévenu.",
    "Statements": "Relevés",
    "Statement": "Relevé",
    "Statement of {partner} for {month}": "Relevé de {partner} pour {month}",
    "Previous month": "Mois précédent",
    "Next month": "Mois suivant",
    "Download as CSV": "Télécharger en CSV",
    "Contract year": "Année du contrat",
    "Currency": "Devise",
    "Billed": "Facturé",
    "Rate": "Taux",
    "Your share": "Votre part",
    "Nothing was billed this month.": "Rien n'a été facturé ce mois-ci.",
    "Total {currency}": "Total {currency}",
    "Billing": "Facturation",
    "Billing of {month}": "Facturation de {month}",
    "Partner's share": "Part du partenaire",
    "(sold by the operator)": "(vendu par l'opérateur)",
    # -- pictures and search engines ----------------------------------------------------------------------------
    "Add the picture": "Ajouter l'image",
    "Delete the picture {alt}": "Supprimer l'image {alt}",
    "Delete this picture?": "Supprimer cette image ?",
    "How this page may look in search results": "L'allure possible de cette page dans les résultats de recherche",
    "In a page, write:": "Dans une page, écrivez :",
    "JPEG, PNG, WebP or SVG up to {size}. Each picture gets a smaller copy for phones and counts in your storage.": (
        "JPEG, PNG, WebP ou SVG jusqu'à {size}. Chaque image reçoit une copie plus petite pour les téléphones et "
        "compte dans votre espace."
    ),
    "Make it the cover": "En faire la couverture",
    "Make {alt} the cover": "Faire de {alt} la couverture",
    "No cover": "Pas de couverture",
    "Picture": "Image",
    "Pictures": "Images",
    "The cover is saved. Publish to show it.": "La couverture est enregistrée. Publiez pour l'afficher.",
    "The picture is added. Copy its line into a page, or make it the cover.": (
        "L'image est ajoutée. Copiez sa ligne dans une page, ou faites-en la couverture."
    ),
    "The picture is added. Parts that could run code or load other sites were removed from it.": (
        "L'image est ajoutée. Les parties qui pouvaient exécuter du code ou charger d'autres sites en ont été retirées."
    ),
    "The picture is deleted.": "L'image est supprimée.",
    "Title in search results (empty: the page's title and the business's name)": (
        "Titre dans les résultats de recherche (vide : le titre de la page et le nom de l'entreprise)"
    ),
    "What it shows, for people who cannot see it (required)": (
        "Ce qu'elle montre, pour les personnes qui ne la voient pas (obligatoire)"
    ),
    "the cover": "la couverture",
    # -- refusals of pictures and site addresses (messages of sites/media.py, sites/library.py, ops/sites.py) --
    "this file is not a JPEG, PNG, WebP or SVG picture": "ce fichier n'est pas une image JPEG, PNG, WebP ou SVG",
    "the picture is too big (at most 8 MB)": "l'image est trop lourde (8 Mo au plus)",
    "the picture has too many pixels (at most 40 million)": "l'image a trop de pixels (40 millions au plus)",
    "the picture cannot be read (damaged or not a picture)": "l'image est illisible (abîmée, ou pas une image)",
    "the picture's content does not match its type": "le contenu de l'image ne correspond pas à son type",
    "the file is empty": "le fichier est vide",
    "describe the picture in a few words (its alt text): it is required": (
        "décrivez l'image en quelques mots (son texte alternatif) : c'est obligatoire"
    ),
    "Choose a picture file (JPEG, PNG, WebP or SVG).": "Choisissez un fichier image (JPEG, PNG, WebP ou SVG).",
    "Text (Markdown: # heading, **bold**, *italic*, - lists, [link](https://…); a picture: copy its line from "
    "Pictures)": (
        "Texte (Markdown : # titre, **gras**, *italique*, - listes, [lien](https://…) ; une image : copiez sa ligne "
        "depuis Images)"
    ),
    # -- bringing mail in from another provider ------------------------------------------------------------
    "Bring mail in for {address}": "Rapatrier le courrier de {address}",
    "From {source}": "Depuis {source}",
    "{done} of {total} messages, {done_size} of {total_size}": (
        "{done} messages sur {total}, {done_size} sur {total_size}"
    ),
    "Done: every message is here.": "Terminé : tous les messages sont ici.",
    "Stopped:": "Arrêté :",
    "Copying: this page refreshes by itself.": "Copie en cours : cette page se met à jour toute seule.",
    "Your previous provider's mail server": "Le serveur de messagerie de votre ancien fournisseur",
    "Every folder is copied with its flags and dates; running it again later only brings what is missing.": (
        "Chaque dossier est copié avec ses indicateurs et ses dates ; le relancer plus tard "
        "n'apporte que ce qui manque."
    ),
    "IMAP server": "Serveur IMAP",
    "Port (empty: the usual one)": "Port (vide : le port habituel)",
    "User name there": "Identifiant chez lui",
    "Password there": "Mot de passe chez lui",
    "Start the import": "Lancer le rapatriement",
    "Bring your mail from your previous provider": "Rapatrier votre courrier depuis votre ancien fournisseur",
    "The import has started: this page follows it. You may close it; it goes on.": (
        "Le rapatriement a commencé : cette page le suit. Vous pouvez la fermer, il continue."
    ),
    "SSL/TLS (port 993)": "SSL/TLS (port 993)",
    "STARTTLS (port 143)": "STARTTLS (port 143)",
    "None (only on a private network)": "Aucune (seulement sur un réseau privé)",
    "Choose a security and give the port as a number.": "Choisissez une sécurité et donnez le port en chiffres.",
    "Give the server, its port, your user name and password there.": (
        "Indiquez le serveur, son port, votre identifiant et votre mot de passe chez lui."
    ),
    # -- white label --------------------------------------------------------------------------------------
    "Your brand": "Votre marque",
    "Brand of {partner}": "Marque de {partner}",
    "Your customers see this brand instead of ours: on these pages, in their mail apps and in the notices they get.": (
        "Vos clients voient ce nom, ce logo, cette couleur et ces contacts d'assistance à la place des nôtres : "
        "sur ces pages, dans les réglages de leurs applications de messagerie et dans les avis qu'ils reçoivent."
    ),
    "Main colour": "Couleur principale",
    "Support address": "Adresse d'assistance",
    "Support phone": "Téléphone d'assistance",
    "Logo (PNG, JPEG or WebP, at most 256 KiB)": "Logo (PNG, JPEG ou WebP, 256 Kio au plus)",
    "Upload the logo": "Envoyer le logo",
    "Sign-ups through you: {url} (under {domain}).": "Inscriptions par vous : {url} (sous {domain}).",
    "Support: {contacts}": "Assistance : {contacts}",
    # -- password recovery --------------------------------------------------------------------------------
    "Forgot your password?": "Mot de passe oublié ?",
    "Give your mail address: a link to choose a new password is mailed to the recovery address of the account.": (
        "Indiquez votre adresse e-mail : un lien pour choisir un nouveau mot de passe est envoyé à l'adresse de "
        "secours du compte."
    ),
    "Mail me a link": "M'envoyer un lien",
    "If this account has a confirmed recovery address, a link to choose a new password is on its way there. It "
    "works once, within 30 minutes.": (
        "Si ce compte a une adresse de secours confirmée, un lien pour choisir un nouveau mot de passe y est en "
        "route. Il ne sert qu'une fois, dans les 30 minutes."
    ),
    "No mail? Ask an owner of your business or your provider to reset your password.": (
        "Pas de message ? Demandez à un propriétaire de votre entreprise ou à votre hébergeur de réinitialiser "
        "votre mot de passe."
    ),
    "Back to the sign-in page": "Retour à la page de connexion",
    "Choose a new password": "Choisissez un nouveau mot de passe",
    "Confirm the recovery address": "Confirmez l'adresse de secours",
    "Password reset links of the account will be mailed to this address.": (
        "Les liens de réinitialisation du mot de passe du compte seront envoyés à cette adresse."
    ),
    "Confirm": "Confirmer",
    "Recovery address": "Adresse de secours",
    "If you forget your password, a link to choose a new one is mailed there. It must be outside your business.": (
        "Si vous oubliez votre mot de passe, un lien pour en choisir un nouveau y est envoyé. Elle doit être hors "
        "de votre entreprise."
    ),
    "Reset links go to {address}.": "Les liens de réinitialisation vont à {address}.",
    "None yet: a forgotten password needs an owner of your business or your provider.": (
        "Aucune pour l'instant : un mot de passe oublié passe par un propriétaire de votre entreprise ou votre "
        "hébergeur."
    ),
    "{address} is waiting for its confirmation: open the link mailed to it.": (
        "{address} attend sa confirmation : ouvrez le lien qui lui a été envoyé."
    ),
    "Recovery address (empty: none)": "Adresse de secours (vide : aucune)",
    "Save the recovery address": "Enregistrer l'adresse de secours",
    "Recovery address (optional): a mail address outside your business, where a forgotten password can be reset": (
        "Adresse de secours (facultatif) : une adresse e-mail hors de votre entreprise, pour réinitialiser un mot "
        "de passe oublié"
    ),
    "Mail a reset link to its recovery address": "Envoyer un lien de réinitialisation à son adresse de secours",
    "Your password is changed: sign in with the new one.": (
        "Votre mot de passe est changé : connectez-vous avec le nouveau."
    ),
    "A confirmation link is mailed to your recovery address: open it to start using it.": (
        "Un lien de confirmation est envoyé à votre adresse de secours : ouvrez-le pour commencer à l'utiliser."
    ),
    "The recovery address is removed.": "L'adresse de secours est supprimée.",
    "The recovery address is confirmed: password reset links go there.": (
        "L'adresse de secours est confirmée : les liens de réinitialisation y vont."
    ),
    "A password reset link is mailed to the recovery address of this mailbox.": (
        "Un lien de réinitialisation est envoyé à l'adresse de secours de cette boîte mail."
    ),
    "Too many password reset requests: try again in an hour.": (
        "Trop de demandes de réinitialisation : réessayez dans une heure."
    ),
    "This link has expired: ask for a new one.": "Ce lien a expiré : demandez-en un nouveau.",
    "This link does not work: a newer one was sent, or it was mistyped. Ask for a new one.": (
        "Ce lien ne fonctionne pas : un plus récent a été envoyé, ou il a été mal recopié. Demandez-en un nouveau."
    ),
    "This link was used already: it works once. Ask for a new one if you need it.": (
        "Ce lien a déjà servi : il ne sert qu'une fois. Demandez-en un nouveau si besoin."
    ),
    "This link does not work any more: the password or the recovery address changed since it was sent.": (
        "Ce lien ne fonctionne plus : le mot de passe ou l'adresse de secours a changé depuis son envoi."
    ),
    **COLLABORATION,
}
