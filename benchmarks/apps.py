from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Development tooling only: the synthetic-data generator (it switches triggers and audit off while it
    loads), never installed by the production settings."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
