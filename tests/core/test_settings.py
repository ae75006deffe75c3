"""The production checklist: `cocotte check --deploy` passes with the documented variables."""

import os
import subprocess
import sys


def run_check(tmp_path, **env):
    environment = {
        **os.environ,
        "COCOTTE_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cocotte.settings",
        **env,
    }
    environment.pop("DATABASE_URL", None)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own thread
    return subprocess.run(
        [sys.executable, "-m", "cocotte", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path):
    result = run_check(
        tmp_path,
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        SECURE="true",
        ALLOWED_HOSTS="cocotte.example.org",
        DEBUG="false",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_embedded_defaults_warn_before_production(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode != 0
    assert "SECURE" in result.stderr + result.stdout or "security" in (result.stderr + result.stdout).lower()


def test_a_mistyped_boolean_stops_the_start_with_its_name(tmp_path):
    result = run_check(tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_a_secret_key_is_generated_once_and_kept(tmp_path):
    run_check(tmp_path)
    first = (tmp_path / "secret_key").read_text()
    run_check(tmp_path)
    assert (tmp_path / "secret_key").read_text() == first
    assert len(first) > 50


def test_a_public_address_that_is_not_an_origin_stops_the_start_with_its_name(tmp_path):
    # Every link in e-mails is built on it: a typo would mail broken links to every member.
    for wrong in (
        "cocotte.example.org",
        "ftp://cocotte.example.org",
        "https://cocotte.example.org/reservations",
    ):
        result = run_check(tmp_path, COCOTTE_PUBLIC_URL=wrong)
        assert result.returncode != 0
        assert "COCOTTE_PUBLIC_URL must be a scheme and a host" in result.stderr, wrong


def test_the_former_name_of_the_public_address_is_not_silently_ignored(tmp_path):
    result = run_check(tmp_path, SITE_URL="https://cocotte.example.org")
    assert result.returncode != 0
    assert "SITE_URL is now called COCOTTE_PUBLIC_URL" in result.stderr


def test_a_real_payment_provider_without_its_secret_refuses_to_start(tmp_path):
    # Else notifications would be checked with the development secret that anyone can read in the code.
    result = run_check(tmp_path, COCOTTE_PAYMENT_CHECKOUT_URL="https://pay.example.org/v1/sessions")
    assert result.returncode != 0
    assert "COCOTTE_PAYMENT_CHECKOUT_URL needs COCOTTE_PAYMENT_SECRET" in result.stderr
