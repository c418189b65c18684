"""Entry point of the bulk prepare worker process (see ``hyper_registry.core.bulk``)."""

from hyper_registry.core.bulk import worker_main

if __name__ == "__main__":
    worker_main()
