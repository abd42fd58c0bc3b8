"""Who may act on what: the one place the region, organisation and licence-type boundaries of a
client are decided (docs/authorisation.md, "Who may do what").  The domain functions ask here
and raise their own errors (a licence refusal is `issuer-authority`, a seal refusal
`seal-forbidden`), so a route only passes the client through and the CLI gets the same rules.

Three boundaries, each narrowing the one before:

- **Region.**  A node serves its own region's clients only (`of_this_node`); the web layer
  refuses any other at authentication, even if it is registered in this node's database.  Other
  regions reach a node through the federation routes (signed lists, status), never with a key.
- **Organisation.**  A client is bound to its organisation when it issues (role `issuer`) or when
  its `org_code` names an issuing organisation of the region's key store — an organisation's own
  administrator or auditor.  An admin or auditor whose `org_code` names no issuing organisation
  (the region's operator, 大数据中心; the region's 电子监察) acts for the whole region.
- **Licence types.**  A client with `licence_types` acts on those types only: it reads, amends,
  suspends and revokes no other.  One narrowed to *some* of its organisation's types stamps with
  the organisation's seal only inside issuance of its own types (a bare "seal this document"
  names no type, so it is not theirs to ask) and manages no seal.

Why bind by the key store and not by a new client field: the dev and production client lists
already carry the operator's own org code for admins and auditors, and the key store is the
register of who issues; a field would be a second register that could disagree with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from license_svc.identifiers import ROOT

# Roles whose rights reach the whole region unless the client is bound to an organisation.
REGIONAL_ROLES = ("admin", "auditor")


@dataclass(frozen=True)
class Scope:
    """What a client's rights reach within the node's region: one organisation (or all, None)
    and some licence types (template folders; all, None)."""

    region: str
    org_code: str | None
    types: frozenset[str] | None

    @property
    def regional(self) -> bool:
        return self.org_code is None

    def covers_org(self, org_code: str) -> bool:
        return self.org_code is None or org_code == self.org_code

    def covers_type(self, folder: str | None) -> bool:
        return self.types is None or (folder is not None and folder in self.types)

    def covers_type_code(self, type_code: str) -> bool:
        return self.types is None or type_folder(type_code) in self.types

    def covers_licence(self, version) -> bool:
        """A stored licence version (`licences.models.LicenceVersion`)."""
        return (version.region == self.region and self.covers_org(version.issuer_code)
                and self.covers_type_code(version.type_code))

    def type_codes(self) -> set[str] | None:
        """The type codes of `types` (None: every type)."""
        if self.types is None:
            return None
        from license_svc.templates import load_templates

        return {t.type_code for folder, t in load_templates().items() if folder in self.types}


def type_folder(type_code: str) -> str | None:
    from license_svc.templates import by_type_code

    template = by_type_code(type_code)
    return template.folder if template is not None else None


def of_this_node(ctx, client) -> bool:
    """Whether the node serves this client at all: its region is the node's."""
    return client.region == ctx.region


def issuing_organisations(ctx) -> set[str]:
    return {o.code for o in ctx.keystore.organisations(ctx.region)}


def is_narrowed(ctx, client) -> bool:
    """Whether the client's licence types leave out some of its organisation's: it then acts for
    part of the organisation only.  A client listing every type its organisation issues (the
    dev approval systems do) acts for all of it."""
    if not client.licence_types:
        return False
    org = next((o for o in ctx.keystore.organisations(ctx.region) if o.code == client.org_code), None)
    return org is None or not set(org.licence_types) <= set(client.licence_types)


def scope_of(ctx, client) -> Scope:
    bound = client.has_role("issuer") or (client.org_code and
                                          client.org_code in issuing_organisations(ctx))
    return Scope(region=ctx.region, org_code=(client.org_code or "") if bound else None,
                 types=frozenset(client.licence_types) or None)


# -- licences ----------------------------------------------------------------------------------

def may_read_licence(ctx, client, version) -> bool:
    """Issuers and admins read the licences of their scope (a holder reads its own: that is
    `licences.holders.is_holder`, checked by the caller)."""
    return (of_this_node(ctx, client) and version.region == ctx.region
            and client.has_role("issuer", "admin") and scope_of(ctx, client).covers_licence(version))


def may_change_licence(ctx, client, version) -> bool:
    """Amend, suspend, reinstate, revoke: the issuing organisation's issuer clients whose types
    include the licence's.  Admins do not change licences: a licence speaks for the organisation
    that signed it, and only its approval system decides."""
    return (client.has_role("issuer") and of_this_node(ctx, client) and version.region == ctx.region
            and scope_of(ctx, client).covers_licence(version))


def may_issue_type(client, folder: str) -> bool:
    return not client.licence_types or folder in client.licence_types


# -- seals -------------------------------------------------------------------------------------

def may_manage_seals(ctx, client, org_code: str) -> bool:
    """Make, suspend, reinstate, revoke a seal of `org_code`: an admin of this region — the
    region's operator for any organisation, an organisation's own admin for its own.  A client
    narrowed to some of its organisation's licence types (`is_narrowed`) manages no seal: a seal
    is the whole organisation's."""
    scope = scope_of(ctx, client)
    return (client.has_role("admin") and of_this_node(ctx, client) and not is_narrowed(ctx, client)
            and scope.covers_org(org_code))


def may_stamp_with(ctx, client, seal_org: str) -> bool:
    """Seal a document with a seal of `seal_org`: that organisation's own clients (issuer, or its
    admin), not narrowed to some of its types.  The region's operator manages seals but does not stamp in another
    organisation's name."""
    scope = scope_of(ctx, client)
    return (client.has_role("issuer", "admin") and of_this_node(ctx, client)
            and scope.org_code == seal_org and not is_narrowed(ctx, client))


def seal_list_org(ctx, client, asked: str | None) -> str | None | bool:
    """The organisation whose seals a listing may show: `asked` (None = all) for a regional
    admin or auditor, else the client's own organisation — and False when the client asked for
    another organisation's (the listing is then empty)."""
    scope = scope_of(ctx, client)
    if scope.regional and client.has_role(*REGIONAL_ROLES):
        return asked
    own = client.org_code or ""
    if asked and asked != own:
        return False
    return own


# -- audit log ---------------------------------------------------------------------------------

def audit_org(ctx, client) -> str | None:
    """The organisation an auditor's or admin's view of the log is limited to (None: the whole
    region's log).  An organisation's own auditor sees what its clients did and what was done
    with its licences."""
    return scope_of(ctx, client).org_code


def audit_entry_in_scope(ctx, client, entry: dict) -> bool:
    """Whether an auditor or admin may read one entry of this node's log."""
    if not (client.has_role(*REGIONAL_ROLES) and of_this_node(ctx, client)):
        return False
    org = audit_org(ctx, client)
    return org is None or entry_of_org(entry, org)


def entry_of_org(entry: dict, org: str) -> bool:
    actor = entry.get("actor") or {}
    return actor.get("org_code") == org or licence_of_org(entry.get("licence_id"), org)


def licence_of_org(identifier: str | None, org: str) -> bool:
    """GB/T 36904 identifiers name the issuer: ROOT.type.issuer.serial.version.check."""
    if not isinstance(identifier, str) or not identifier.startswith(ROOT + "."):
        return False
    parts = identifier[len(ROOT) + 1:].split(".")
    return len(parts) >= 2 and parts[1] == org


def licence_id_pattern(org: str) -> str:
    """A SQL LIKE pattern for the identifiers of `org`'s licences (org codes are [0-9A-Z])."""
    return f"{ROOT}.%.{org}.%"
