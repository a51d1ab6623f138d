"""Signatures as Standard Webhooks 1.0 defines them, checked against the
`standardwebhooks` package (an independent implementation)."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifier import signing


def test_a_signature_verifies_with_the_reference_library() -> None:
    secret = signing.new_secret()
    body = '{"type":"jsb.status.changed","data":{"名称":"某某"}}'.encode()
    headers = signing.headers([secret], "msg_1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "jsb.status.changed",
        "data": {"名称": "某某"},
    }
    assert headers["webhook-signature"].startswith("v1,")


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    body = b"{}"
    headers = signing.headers([new, old], "msg_2", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_a_changed_body_or_id_fails() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], "msg_3", int(time.time()), b'{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":1}', {**headers, "webhook-id": "msg_4"})


def test_secrets_look_like_svix_secrets() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(signing._key(secret)) == 32
