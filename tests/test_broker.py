"""The embedded broker never exposes a half-written message to a reader."""
import json
import os

from kombu import Connection


def test_messages_appear_whole_and_round_trip(tmp_path):
    folders = {name: tmp_path / name for name in ("in", "processed", "control", "staging")}
    for folder in folders.values():
        folder.mkdir()
    options = {"data_folder_in": str(folders["in"]), "data_folder_out": str(folders["in"]),
               "processed_folder": str(folders["processed"]), "control_folder": str(folders["control"]),
               "staging_folder": str(folders["staging"])}
    with Connection("atelierfs://", transport_options=options) as connection:
        queue = connection.SimpleQueue("jobs")
        for i in range(50):
            queue.put({"n": i})
        # Every file in the queue folder is complete JSON; staging is left empty.
        for name in os.listdir(folders["in"]):
            json.loads((folders["in"] / name).read_bytes())
        assert os.listdir(folders["staging"]) == []
        received = sorted(queue.get(timeout=1).payload["n"] for _ in range(50))
        assert received == list(range(50))
        queue.close()
