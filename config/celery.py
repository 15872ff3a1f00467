import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_embedded_broker_folders(sender, **kwargs):
    # The embedded filesystem transport needs its folders before the first message.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _drop_broken_connections(**kwargs):
    # CELERY_DB_REUSE_MAX keeps a worker's connection across tasks; like Django between
    # requests, drop it when it broke (a database restart) or outlived CONN_MAX_AGE.
    from django.db import close_old_connections

    close_old_connections()
