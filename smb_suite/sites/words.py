"""The words of generated sites in the business's language: what themes say around the owner's text ("Opening
hours", "Phone:", the contact form) and the first page written for a new business from its sign-up answers.

Themes call `{{ t("English text", name=value) }}`; the English text is the key, so a theme stays readable and an
unknown language falls back to English. The language is the site's `lang` (a BCP 47 tag, RFC 5646): its
primary subtag picks the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Translate = Callable[..., str]

FRENCH: Mapping[str, str] = {
    "Home": "Accueil",
    "Contact": "Contact",
    "Skip to content": "Aller au contenu",
    "Skip to the content": "Aller au contenu",
    "Skip to main content": "Aller au contenu principal",
    "Main menu": "Menu principal",
    "Phone:": "Téléphone :",
    "Opening hours": "Horaires d'ouverture",
    "Hours": "Horaires",
    "Find us": "Nous trouver",
    "Visit us": "Nous rendre visite",
    "Contact us": "Nous contacter",
    "Call us": "Nous appeler",
    "Write to us": "Nous écrire",
    "Call {phone}": "Appeler le {phone}",
    "Get in touch": "Nous contacter",
    "{name} logo": "Logo de {name}",
    "Welcome": "Bienvenue",
    "Page not found": "Page introuvable",
    "This page does not exist.": "Cette page n'existe pas.",
    "Back to the home page": "Retour à l'accueil",
    "Thank you": "Merci",
    "Your message was sent.": "Votre message est envoyé.",
    "Write to {name}.": "Écrire à {name}.",
    "Send {name} a message; we answer by mail.": "Envoyez un message à {name} ; nous répondons par mail.",
    "Your message was sent to {name}.": "Votre message a été envoyé à {name}.",
    "Questions, bookings for groups, special wishes: write to us.": (
        "Questions, réservations de groupe, demandes particulières : écrivez-nous."
    ),
    "Thank you!": "Merci !",
    "Your message is on its way to us. See you soon at {name}.": ("Votre message est en route. À bientôt chez {name}."),
    "Back home": "Retour à l'accueil",
    "Nothing on this plate": "Rien dans cette assiette",
    "This page does not exist (any more).": "Cette page n'existe pas (ou plus).",
    "See what we serve": "Voir ce que nous servons",
    "We could not find that page": "Nous n'avons pas trouvé cette page",
    "The link may be old. Try the home page or the menu above.": (
        "Le lien est peut-être ancien. Essayez l'accueil ou le menu ci-dessus."
    ),
    "We reply by mail, usually within one working day.": "Nous répondons par mail, en général sous un jour ouvré.",
    "Message sent": "Message envoyé",
    "Thank you. {name} has your message and will answer soon.": (
        "Merci. {name} a bien reçu votre message et vous répondra bientôt."
    ),
    "Your name": "Votre nom",
    "Your mail address": "Votre adresse mail",
    "Phone (optional)": "Téléphone (facultatif)",
    "Subject": "Objet",
    "Message": "Message",
    "Leave this field empty": "Laissez ce champ vide",
    "Send message": "Envoyer le message",
    # the first page of a new business
    "Welcome to {name}.": "Bienvenue chez {name}.",
    "Welcome to {name}, {activity}.": "Bienvenue chez {name}, {activity}.",
    "Welcome to {name}, {activity} in {city}.": "Bienvenue chez {name}, {activity} à {city}.",
    "Welcome to {name} in {city}.": "Bienvenue chez {name} à {city}.",
    "Call us on {phone} or write to us through the contact page.": (
        "Appelez-nous au {phone} ou écrivez-nous depuis la page de contact."
    ),
    "Write to us through the contact page.": "Écrivez-nous depuis la page de contact.",
    "Our new website is on its way.": "Notre nouveau site arrive bientôt.",
}
CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": {}, "fr": FRENCH}
LANGUAGES = tuple(CATALOGUES)


def primary(lang: str) -> str:
    """The catalogue for a language tag: its primary subtag when we have words for it, else English."""
    code = lang.strip().lower().split("-")[0]
    return code if code in CATALOGUES else "en"


def translator(lang: str) -> Translate:
    catalogue = CATALOGUES[primary(lang)]

    def translate(text: str, /, **fields: object) -> str:
        translated = catalogue.get(text, text)
        return translated.format(**fields) if fields else translated

    return translate


def first_page_body(lang: str, name: str, activity: str = "", city: str = "", phone: str = "") -> str:
    """The text of a new business's home page, made from its sign-up answers in its language (Markdown)."""
    t = translator(lang)
    if activity and city:
        welcome = t("Welcome to {name}, {activity} in {city}.", name=name, activity=activity, city=city)
    elif activity:
        welcome = t("Welcome to {name}, {activity}.", name=name, activity=activity)
    elif city:
        welcome = t("Welcome to {name} in {city}.", name=name, city=city)
    else:
        welcome = t("Welcome to {name}.", name=name) + " " + t("Our new website is on its way.")
    reach = (
        t("Call us on {phone} or write to us through the contact page.", phone=phone)
        if phone
        else t("Write to us through the contact page.")
    )
    return _markdown_text(welcome) + "\n\n" + _markdown_text(reach)


def _markdown_text(text: str) -> str:
    """Plain words as Markdown: characters Markdown would read as markup are escaped (CommonMark 2.4)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]<>()#+!|~" else ch for ch in text)
