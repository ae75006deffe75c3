"""Cocotte's settings plus the benchmark's reference view (bench/ping): DJANGO_SETTINGS_MODULE=bench.settings."""

from cocotte.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
