"""The directory-file identity service, on the demo directory that `make run` uses."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from services.identity import DEMO_DIRECTORY, DirectoryIdentityService

CONTOSO = "7f3c2a10-0000-4000-8000-000000c0de01"


@pytest.fixture
def directory() -> DirectoryIdentityService:
    return DirectoryIdentityService.from_file(DEMO_DIRECTORY)


async def test_the_demo_directory_knows_who_may_create_the_account(directory):
    mei, david = await directory.user("mei.lin"), await directory.user("david.chen")

    assert mei is not None and mei.global_admin
    assert david is not None and not david.global_admin
    assert [u.id for u in await directory.global_admins(CONTOSO)] == ["mei.lin"]


async def test_tenants_carry_their_verified_domains(directory):
    tenant = await directory.tenant(CONTOSO)

    assert tenant is not None and "contoso.example" in tenant.verified_domains


async def test_the_demo_covers_every_case_of_the_journey(directory):
    users = await directory.users()

    assert any(u.tenant_id is None for u in users)  # an organization without a tenant
    assert any(u.admin_agent for u in users) and any(not u.admin_agent for u in users)
    assert await directory.user("nobody") is None


def test_a_malformed_directory_file_is_refused_with_the_field_at_fault(tmp_path):
    broken = tmp_path / "directory.json"
    broken.write_text(json.dumps({"tenants": [], "users": [{"id": "x"}]}))

    with pytest.raises(ValidationError, match="display_name"):
        DirectoryIdentityService.from_file(broken)
