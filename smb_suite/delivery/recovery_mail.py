"""The words of the password recovery mails (ops/recovery.py), in English and French: the language of the
pages the user chose its recovery address on. Sent by OwnerNotices.mail_address under the business's brand.
"""

from __future__ import annotations

from collections.abc import Mapping

CONFIRM: Mapping[str, tuple[str, str]] = {
    "en": (
        "Confirm the recovery address of {account}",
        "{account} chose this address to receive password reset links.\r\n\r\n"
        "To confirm it, open this link within 24 hours:\r\n{link}\r\n\r\n"
        "If you did not ask for this, ignore this mail: nothing changes.\r\n",
    ),
    "fr": (
        "Confirmez l'adresse de secours de {account}",
        "{account} a choisi cette adresse pour recevoir les liens de réinitialisation de son mot de passe.\r\n\r\n"
        "Pour la confirmer, ouvrez ce lien dans les 24 heures :\r\n{link}\r\n\r\n"
        "Si vous n'avez rien demandé, ignorez ce message : rien ne change.\r\n",
    ),
}

RESET: Mapping[str, tuple[str, str]] = {
    "en": (
        "Reset the password of {account}",
        "Someone ({who}, from {client}) asked to reset the password of {account}.\r\n\r\n"
        "To choose a new password, open this link within 30 minutes. It works once:\r\n{link}\r\n\r\n"
        "If nobody asked for it, ignore this mail: the password stays as it is.\r\n",
    ),
    "fr": (
        "Réinitialisez le mot de passe de {account}",
        "Quelqu'un ({who}, depuis {client}) a demandé à réinitialiser le mot de passe de {account}.\r\n\r\n"
        "Pour choisir un nouveau mot de passe, ouvrez ce lien dans les 30 minutes. Il ne sert qu'une fois :\r\n"
        "{link}\r\n\r\n"
        "Si personne ne l'a demandé, ignorez ce message : le mot de passe reste tel quel.\r\n",
    ),
}

DONE: Mapping[str, tuple[str, str]] = {
    "en": (
        "The password of {account} was reset",
        "The password of {account} was reset through a link mailed to its recovery address, from {client}.\r\n\r\n"
        "If nobody in your business did this, ask an owner of your business or your provider to set a new password "
        "at once and to check the recovery address.\r\n",
    ),
    "fr": (
        "Le mot de passe de {account} a été réinitialisé",
        "Le mot de passe de {account} a été réinitialisé par un lien envoyé à son adresse de secours, depuis "
        "{client}.\r\n\r\n"
        "Si personne dans votre entreprise ne l'a fait, demandez tout de suite à un propriétaire de votre entreprise "
        "ou à votre hébergeur de définir un nouveau mot de passe et de vérifier l'adresse de secours.\r\n",
    ),
}

FORGOT = {"en": "the forgotten password form", "fr": "le formulaire « mot de passe oublié »"}


def words(catalog: Mapping[str, tuple[str, str]], language: str, **fields: str) -> tuple[str, str]:
    """(subject, body) in the language (English when it has none), fields filled in."""
    subject, body = catalog.get(language, catalog["en"])
    return subject.format(**fields), body.format(**fields)
