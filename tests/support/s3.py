"""An S3-compatible server on loopback (moto's server mode) with one private bucket.

`start_s3()` returns an S3Server whose `.env` are the settings that point Atelier at it
(the same variables production uses) and whose `.client()` is a boto3 client for checks."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import httpx

from .servers import ServerUnavailable, free_port

ACCESS_KEY, SECRET_KEY, REGION = "AKIAATELIERTEST00001", "atelier-test-secret", "us-east-1"


@dataclass
class S3Server:
    url: str
    bucket: str
    process: subprocess.Popen
    log_path: str
    env: dict = field(default_factory=dict)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def keys(self, prefix: str = "") -> list[str]:
        found, paginator = [], self.client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return found

    def storage_options(self) -> dict:
        """OPTIONS for apps.generations.s3.PrivateS3Storage, as config/settings.py builds them."""
        return {"bucket_name": self.bucket, "endpoint_url": self.url, "region_name": REGION,
                "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "addressing_style": "path",
                "signature_version": "s3v4", "querystring_auth": True, "default_acl": None,
                "file_overwrite": False}

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_s3(bucket: str = "atelier-media") -> S3Server:
    try:
        import moto.server  # noqa: F401  (a test dependency: requirements-dev.in)
    except ImportError as exc:
        raise ServerUnavailable(f"moto[server] is not installed: {exc}") from exc
    port = free_port()
    log_path = tempfile.mktemp(prefix="atelier-moto-", suffix=".log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise ServerUnavailable(f"moto server did not start on {url}") from None
            time.sleep(0.1)
    server = S3Server(url=url, bucket=bucket, process=process, log_path=log_path, env={
        "S3_BUCKET": bucket, "S3_ENDPOINT_URL": url, "S3_REGION": REGION, "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_ADDRESSING_STYLE": "path",
    })
    server.client().create_bucket(Bucket=bucket)
    return server
