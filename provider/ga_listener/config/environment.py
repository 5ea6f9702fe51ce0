"""The environment variables of the credential settings, each field read on its own in Terraform's order.

Terraform's alicloud provider (``alicloud/provider.go``, one ``MultiEnvDefaultFunc`` per field) reads the older
``ALICLOUD_*`` name first, then ``ALIBABA_CLOUD_*``, then, for the key pair and token, ``ALIBABACLOUD_*``; the
first non-empty variable of each field wins, so a key id and its secret may come from two families.
pulumi-alicloud is built on that provider, so a stack moved from it keeps its identity. The variables the SDKs
alone define (OIDC, STS endpoint and region, the metadata switches) have one name each.
"""

from __future__ import annotations

from collections.abc import Mapping

from ga_listener.transport.errors import ConfigurationError

__all__ = ["FAMILIES", "VARIABLES", "Environment"]

#: The families of the key-pair variables, first first.
FAMILIES = ("ALICLOUD_", "ALIBABA_CLOUD_", "ALIBABACLOUD_")
#: field -> its variables, first non-empty wins
VARIABLES: dict[str, tuple[str, ...]] = {
    "access_key_id": ("ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABACLOUD_ACCESS_KEY_ID"),
    "access_key_secret": ("ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABACLOUD_ACCESS_KEY_SECRET"),
    "security_token": ("ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABACLOUD_SECURITY_TOKEN"),
    "profile": ("ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE"),
    "profile_file": ("ALICLOUD_SHARED_CREDENTIALS_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE"),
    "credentials_uri": ("ALICLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_CREDENTIALS_URI"),
    "ecs_role": ("ALICLOUD_ECS_ROLE_NAME", "ALIBABA_CLOUD_ECS_METADATA"),
    "region": ("ALICLOUD_REGION", "ALIBABA_CLOUD_REGION"),
    # the fields of alicloud:assumeRole that the environment fills (never a role on its own)
    "role_arn": ("ALICLOUD_ASSUME_ROLE_ARN", "ALIBABA_CLOUD_ROLE_ARN"),
    "session_name": ("ALICLOUD_ASSUME_ROLE_SESSION_NAME", "ALIBABA_CLOUD_ROLE_SESSION_NAME"),
    "session_expiration": ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION",),
    # OIDC, as the SDKs' default chain and Terraform's assume_role_with_oidc read it
    "oidc_provider_arn": ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN",),
    "oidc_role_arn": ("ALIBABA_CLOUD_ROLE_ARN",),
    "oidc_token": ("ALIBABA_CLOUD_OIDC_TOKEN",),
    "oidc_token_file": ("ALIBABA_CLOUD_OIDC_TOKEN_FILE",),
    "oidc_session_name": ("ALIBABA_CLOUD_ROLE_SESSION_NAME",),
    # where STS and the metadata service are
    "sts_endpoint": ("ALIBABA_CLOUD_STS_ENDPOINT",),
    "sts_region": ("ALIBABA_CLOUD_STS_REGION",),
    "vpc_endpoint": ("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",),
    "metadata_endpoint": ("GA_LISTENER_ECS_METADATA_ENDPOINT",),
    "metadata_disabled": ("ALIBABA_CLOUD_ECS_METADATA_DISABLED",),
    "imdsv1_disabled": ("ALIBABA_CLOUD_IMDSV1_DISABLED",),
}
_PAIR = ("access_key_id", "access_key_secret")


class Environment:
    """Reads the fields of :data:`VARIABLES` from one mapping (``os.environ`` or a test's)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def first(self, field: str) -> tuple[str, str] | None:
        """``(variable, value)`` of the first variable of ``field`` that is set and not blank."""
        for name in VARIABLES[field]:
            value = self._environ.get(name, "").strip()
            if value:
                return name, value
        return None

    def value(self, field: str) -> str:
        """The value of ``field``, or ``""``."""
        found = self.first(field)
        return found[1] if found else ""

    def flag(self, field: str) -> bool:
        """True when ``field`` says ``true`` (any case), as the SDKs read their switches."""
        return self.value(field).lower() == "true"

    def key_pair(self) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str] | None] | None:
        """``((id variable, id), (secret variable, secret), (token variable, token) or None)``, each field from
        the first family that sets it; ``None`` when neither the id nor the secret is set. Half a pair raises
        ``ConfigurationError`` naming the variable to set (of the family of the half that is there)."""
        key_id, secret = self.first("access_key_id"), self.first("access_key_secret")
        if key_id is None and secret is None:
            return None
        if key_id is None or secret is None:
            present, (missing_field, missing_names) = (
                (key_id, (_PAIR[1], VARIABLES[_PAIR[1]])) if key_id else (secret, (_PAIR[0], VARIABLES[_PAIR[0]])))
            assert present is not None
            family = next(prefix for prefix in FAMILIES if present[0].startswith(prefix))
            setting = next(name for name in missing_names if name.startswith(family))
            raise ConfigurationError(
                f"{present[0]} is set but the {missing_field.replace('_', ' ')} is not (none of "
                f"{', '.join(missing_names)}); set both or neither", setting=setting)
        return key_id, secret, self.first("security_token")

    @staticmethod
    def described(field: str) -> str:
        """The variables of ``field`` for a message: ``A / B / C``."""
        return " / ".join(VARIABLES[field])
