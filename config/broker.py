"""kombu's filesystem transport with atomic writes (the embedded default's broker).

Upstream's Channel._put creates the message file in the queue folder and then writes it, so
a worker listing the folder can pick up an empty or half-written file and crash on the JSON
(celery/kombu#1551). Here a message is written in a staging folder and renamed into the
queue folder, which is atomic on one filesystem: readers only ever see whole messages."""
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Created here, by the first process that talks to the broker, not when settings load.
        for option in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder", "staging_folder"):
            folder = self.transport_options.get(option)
            if folder:
                os.makedirs(folder, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        staging = self.transport_options.get("staging_folder") or (self.data_folder_out.rstrip("/") + ".staging")
        os.makedirs(staging, exist_ok=True)
        staged = os.path.join(staging, name)
        try:
            with open(staged, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(staged, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the broker folder") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["atelierfs"] = "config.broker:Transport"
