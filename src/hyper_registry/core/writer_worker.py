"""Entry point of the writer process (see ``hyper_registry.core.writer_process``)."""

from hyper_registry.core.writer_process import writer_main

if __name__ == "__main__":
    writer_main()
