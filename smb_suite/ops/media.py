"""Use cases of a site's media library: upload a picture (checked and rewritten in a thread, then kept and
charged to the quota), delete it, choose the cover. Shared by the admin UI and the command line; no SQL, no HTTP.
"""

from __future__ import annotations

from smb_suite.directory.model import Principal
from smb_suite.errors import QuotaExceeded
from smb_suite.ops.sites import _audit, _explain_quota, site_domain
from smb_suite.services import Services
from smb_suite.sites import media
from smb_suite.sites.library import Picture, check_alt


def prepare_picture(services: Services, actor: Principal, name: str, data: bytes, alt: str) -> media.Prepared:
    """Check who uploads and what (content, not name): CPU work, so call it in a reader thread, never on the
    store writer. Raises InvalidInput for a picture that is too big, of another type, or unreadable."""
    site_domain(services, actor, name)
    check_alt(alt)
    return media.prepare(data)


def add_picture(services: Services, actor: Principal, name: str, prepared: media.Prepared, alt: str) -> Picture:
    """Keep a prepared picture in the site's library (QuotaExceeded explained: nothing kept)."""
    domain = site_domain(services, actor, name)
    try:
        picture, levels = services.media.add(domain, prepared, alt)
    except QuotaExceeded as error:
        raise _explain_quota(services, domain, error) from error
    services.quota.announce(domain.tenant_id, levels)
    _audit(services, actor, "site.media.add", domain, f"{picture.id} ({picture.media_type}, {picture.size} bytes)")
    return picture


def pictures(services: Services, actor: Principal, name: str) -> list[Picture]:
    return services.media.pictures(site_domain(services, actor, name))


def picture(services: Services, actor: Principal, name: str, media_id: int) -> Picture:
    return services.media.get(site_domain(services, actor, name), media_id)


def delete_picture(services: Services, actor: Principal, name: str, media_id: int) -> None:
    domain = site_domain(services, actor, name)
    services.media.delete(domain, media_id)
    _audit(services, actor, "site.media.delete", domain, str(media_id))


def choose_cover(services: Services, actor: Principal, name: str, media_id: int | None) -> None:
    """The picture at the top of the home page (and shared in link previews); None: no cover."""
    domain = site_domain(services, actor, name)
    if media_id is not None:
        services.media.get(domain, media_id)  # NotFound for another site's picture
    services.content.save_info(domain, services.config.sites.default_theme, cover_id=media_id)
    _audit(services, actor, "site.cover", domain, str(media_id or "none"))
