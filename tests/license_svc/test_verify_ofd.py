"""OFD documents through the service's two doors: `license-svc verify x.ofd` (exit codes 0/1/2,
the JSON of DESIGN §10) and `POST /api/v1/verify` (multipart file, ?at=), with the trust of every
region's key store.  Packages are made in the tests from the development PKI."""

import json

import pytest
from typer.testing import CliRunner

from license_svc.cli import _register, app
from tests.support import seal as ss
from tests.support import ofd as fx

_register()
URL = "/api/v1/verify"
OFDRW = "/work/shared/interop/ofdrw/v4signed.ofd"


@pytest.fixture
def run(settings):
    env = {"LICENSE_SVC_DATABASE_URL": settings.database_url, "LICENSE_SVC_REGION": "sh",
           "LICENSE_SVC_DATA_DIR": str(settings.data_dir), "LICENSE_SVC_PEERS": ""}

    def invoke(path, at=ss.LATER):
        result = CliRunner().invoke(app, ["verify", str(path), "--json", "--at", at.isoformat()],
                                    env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return invoke


def test_cli_sealed_and_signed_ofd(run, tmp_path):
    for name, data in (("sealed.ofd", fx.seal_package()), ("signed.ofd", fx.sign_package("gm"))):
        (tmp_path / name).write_bytes(data)
        result = run(tmp_path / name)
        body = json.loads(result.stdout)
        assert (result.exit_code, body["indication"]) == (0, "TOTAL_PASSED"), result.stdout
        assert {"indication", "sub_indication", "checks", "signer", "seal"} <= set(body)
    assert body["seal"] == {} and "上海" in body["signer"]["subject"]  # plain signature: no seal


def test_cli_tampered_untrusted_and_hostile_ofd(run, tmp_path):
    page = fx.unzip(fx.seal_package())[fx.PAGE]
    (tmp_path / "t.ofd").write_bytes(fx.rezip(fx.seal_package(),
                                              replace={fx.PAGE: page.replace(b"20", b"21", 1)}))
    result = run(tmp_path / "t.ofd")
    body = json.loads(result.stdout)
    assert (result.exit_code, body["sub_indication"]) == (1, "HASH_FAILURE")
    (tmp_path / "u.ofd").write_bytes(fx.sign_package("gm", cred_name="untrusted"))
    assert run(tmp_path / "u.ofd").exit_code == 2
    (tmp_path / "h.ofd").write_bytes(fx.seal_package() + b"appended")
    result = run(tmp_path / "h.ofd")
    assert (result.exit_code, json.loads(result.stdout)["sub_indication"]) == (1, "FORMAT_FAILURE")


def test_http_verify_ofd(client, auth_headers):
    headers = auth_headers["relying"]
    at = {"at": ss.LATER.isoformat()}
    signed = client.post(URL, files={"file": ("a.ofd", fx.sign_package("pkcs9"), "application/ofd")},
                         headers=headers, params=at)
    assert signed.status_code == 200, signed.text
    assert (signed.json()["subject"], signed.json()["indication"]) == ("ofd", "TOTAL_PASSED")
    # Online, the region's seal registry is asked too: it never registered this test seal.
    body = client.post(URL, files={"file": ("b.ofd", fx.seal_package(), "application/ofd")},
                       headers=headers, params=at).json()
    assert [c["name"] for c in body["checks"] if not c["passed"]] == ["ofd.sig[1].seal.status"]
    assert body["seal"]["stamps"][0]["page"] == 1
    added = fx.rezip(fx.seal_package(), add={"Doc_0/Res/later.png": b"\x89PNG"})
    body = client.post(URL, files={"file": ("x.ofd", added, "application/ofd")}, headers=headers,
                       params=at).json()
    assert (body["indication"], body["sub_indication"]) == ("TOTAL_FAILED",
                                                            "SIG_CONSTRAINTS_FAILURE")


def test_http_verify_ofdrw_package_is_indeterminate(client, auth_headers):
    try:
        data = open(OFDRW, "rb").read()
    except FileNotFoundError:
        pytest.skip("ofdrw sample not present")
    body = client.post(URL, files={"file": ("v4signed.ofd", data, "application/ofd")},
                       headers=auth_headers["relying"], params={"at": "2021-01-01T00:00:00Z"}).json()
    assert (body["indication"], body["sub_indication"]) == ("INDETERMINATE",
                                                            "NO_CERTIFICATE_CHAIN_FOUND")
