"""Sandbox engine benchmark: render time of each modality on this machine. Prints, asserts nothing.

Each case runs --runs times (after one warm-up) in this process; the figures are the median
wall time with the best and worst beside it, the median CPU time of this process (x264 uses
two threads, so CPU can exceed wall; on a busy shared machine CPU is the steadier figure),
the load average while it ran, and the size of what was made. The
derivative step (poster frame, thumbnail, duration) that generation_finish runs on the
result is timed too, since a job pays for both.

Run: .venv/bin/python bench/sandbox.py [--runs 3] [--only video,music]"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)

import django  # noqa: E402

django.setup()

from apps.generations.media import audio_duration, video_probe  # noqa: E402
from apps.providers.adapters.sandbox import SandboxAdapter  # noqa: E402
from apps.providers.base import ChannelConfig, Job  # noqa: E402
from apps.providers.sandbox.image import render_png  # noqa: E402
from apps.providers.sandbox.music import render_song  # noqa: E402
from apps.providers.sandbox.speech import synthesize_speech  # noqa: E402
from apps.providers.sandbox.text import stream  # noqa: E402
from apps.providers.sandbox.video import render_video  # noqa: E402

SENTENCE = "Welcome to Atelier, where every model shares one wallet and one API."


def case_image():
    data = render_png("a red sun over blue mountains at night", seed=1, width=1024, height=1024)
    return f"PNG 1024x1024, {len(data) / 1024:.0f} KiB", data


def case_video():
    data, spec = render_video({"prompt": "a red sun over blue mountains at night", "duration": 5,
                               "aspect_ratio": "16:9", "resolution": "720p", "fps": 24})
    return f"MP4 {spec.width}x{spec.height} {spec.frame_count} frames, {len(data) / 1024:.0f} KiB", data


def case_video_i2v():
    start = "data:image/png;base64," + __import__("base64").b64encode(
        render_png("green forest", width=1280, height=720)).decode()
    end = "data:image/png;base64," + __import__("base64").b64encode(
        render_png("purple night sky", width=1280, height=720)).decode()
    data, spec = render_video({"prompt": "x", "duration": 5, "resolution": "720p", "image_url": start,
                               "end_image_url": end})
    return f"MP4 {spec.width}x{spec.height} start+end frames, {len(data) / 1024:.0f} KiB", data


def case_video_1080():
    data, spec = render_video({"prompt": "ocean waves at sunset", "duration": 5, "resolution": "1080p"})
    return f"MP4 {spec.width}x{spec.height} {spec.frame_count} frames, {len(data) / 1024:.0f} KiB", data


def case_music():
    song = render_song({"prompt": "a happy summer road trip song", "duration": 30})
    key, tempo = song.meta["key"], song.meta["tempo_bpm"]
    return f"MP3 30 s + cover, {len(song.audio) / 1024:.0f} KiB, {key} {tempo} bpm", song.audio


def case_music_long():
    song = render_song({"prompt": "dreamy synthwave night drive", "duration": 240})
    return f"MP3 240 s + cover, {len(song.audio) / 1024:.0f} KiB", song.audio


def case_speech():
    speech = synthesize_speech({"input": SENTENCE, "voice": "nova"})
    return f"MP3 {speech.duration:.2f} s of speech, {len(speech.data) / 1024:.0f} KiB", speech.data


def case_text():
    chunks = list(stream({"prompt": "How should I price a video generation API fairly?", "max_tokens": 512}))
    return f"{len(chunks) - 1} tokens streamed", None


def case_async_contract():
    adapter = SandboxAdapter(ChannelConfig(name="sandbox", adapter="sandbox"))
    job = Job(id="bench", modality="music", upstream_model="music", params={"prompt": "x", "duration": 10},
              channel=adapter.channel)
    submitted = adapter.submit(job)
    return f"submit answered {submitted.status}, poll after {submitted.poll_after} s", None


CASES = {
    "image": ("image 1024x1024", case_image, None),
    "video": ("video 5 s 720p 24 fps (text)", case_video, video_probe),
    "video_i2v": ("video 5 s 720p (start+end frame)", case_video_i2v, video_probe),
    "video_1080": ("video 5 s 1080p 24 fps (text)", case_video_1080, video_probe),
    "music": ("music 30 s", case_music, audio_duration),
    "music_long": ("music 240 s", case_music_long, audio_duration),
    "speech": ("speech, 1 sentence", case_speech, audio_duration),
    "text": ("text answer, streamed", case_text, None),
    "submit": ("async submit (video/music)", case_async_contract, None),
}


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def cpu_timed(function):
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - started, time.process_time() - cpu, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated case names: " + ", ".join(CASES))
    args = parser.parse_args()
    chosen = [name for name in CASES if not args.only or name in args.only.split(",")]
    print(f"sandbox engines on {os.cpu_count()} cores (x264 uses 2 threads, the rest 1; espeak-ng's CPU is "
          f"not in 'cpu'), median of {args.runs} runs after a warm-up")
    print(f"{'case':36} {'median':>8} {'best':>8} {'worst':>8} {'cpu':>8}  {'derivatives':>11}  {'load':>5}  output")
    for name in chosen:
        label, case, derive = CASES[name]
        if name == "speech" and shutil.which("espeak-ng") is None:
            print(f"{label:36} skipped: espeak-ng is not installed")
            continue
        runs = 1 if name == "music_long" else args.runs
        case()  # warm-up: imports, caches, first-call costs
        times, cpus, description, data = [], [], "", None
        for _ in range(runs):
            seconds, cpu, (description, data) = cpu_timed(case)
            times.append(seconds)
            cpus.append(cpu)
        derived = f"{timed(derive, data)[0]:10.3f}s" if derive and data else f"{'-':>11}"
        load = os.getloadavg()[0]
        print(f"{label:36} {statistics.median(times):7.3f}s {min(times):7.3f}s {max(times):7.3f}s "
              f"{statistics.median(cpus):7.3f}s  {derived}  {load:5.1f}  {description}")


if __name__ == "__main__":
    main()
