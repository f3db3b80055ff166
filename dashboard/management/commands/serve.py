"""manage.py serve: the web server and a django-q2 worker together; Ctrl-C stops both."""

import signal
import time

from django.core.management.base import BaseCommand

from dashboard.processes import manage_py_start, process_group_stop


class Command(BaseCommand):
    help = "Run the development web server and a qcluster worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        children = [manage_py_start(["qcluster"]), manage_py_start(["runserver", addrport])]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            # Either child ending (or Ctrl-C) ends both.
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.3)
        finally:
            self.stdout.write("Stopping the web server and the worker…")
            for child in children:
                process_group_stop(child)
