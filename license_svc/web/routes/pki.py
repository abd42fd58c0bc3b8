"""`GET /api/v1/pki`: the region's certificates and CRLs (public trust material, no auth)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from license_svc.web.auth import get_ctx
from license_svc.context import AppContext
from license_svc.pki import trust_material
from license_svc.web.schemas.health import TrustMaterial
from license_svc.web.schemas.openapi import ok

router = APIRouter(prefix="/api/v1", tags=["信任材料 trust material"])


@router.get("/pki", summary="本区域证书与 CRL / this region's certificates and CRLs",
            response_model=None, responses=ok(TrustMaterial))
def pki(ctx: AppContext = Depends(get_ctx)) -> dict:
    return trust_material(ctx)
