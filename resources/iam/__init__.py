"""IAM drivers (a global service: every call goes to us-east-1).

- `roles`: roles, their inline policies and managed-policy attachments, the role look-up, and
  the batched read of every role's policies (GetAccountAuthorizationDetails);
- `exclusive`: the exclusive ownership of a role's inline policies and of its attachments.

The drivers are registered by their modules (the loader imports every one); the names below
are for readers and tests.
"""

from __future__ import annotations

from resources.iam.exclusive import RolePoliciesExclusive, RolePolicyAttachmentsExclusive
from resources.iam.roles import Role, RoleLookup, RolePolicy, RolePolicyAttachment

__all__ = [
    "Role",
    "RoleLookup",
    "RolePoliciesExclusive",
    "RolePolicy",
    "RolePolicyAttachment",
    "RolePolicyAttachmentsExclusive",
]
