"""The sandbox video engine: real H.264 files at the requested size, length and frame rate."""
import base64
import io

import av
import numpy as np
import pytest
from PIL import Image

from apps.providers.base import InvalidInput
from apps.providers.sandbox.image import render_png
from apps.providers.sandbox.video import frame_size, render_video, spec_from_params


def decode(data: bytes) -> tuple[av.video.stream.VideoStream, list[np.ndarray], av.container.InputContainer]:
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return stream, frames, container


def data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def gradient(width: int, height: int, colour: tuple[int, int, int]) -> Image.Image:
    """A picture with structure (a ramp and a block) so a misplaced crop shows up in the pixels."""
    ramp = np.linspace(0.3, 1.0, width, dtype=np.float32)[None, :, None]
    pixels = np.broadcast_to(ramp * np.array(colour, dtype=np.float32), (height, width, 3)).copy()
    pixels[height // 4: height // 2, width // 4: width // 2] = 255
    return Image.fromarray(pixels.astype(np.uint8))


@pytest.mark.parametrize("aspect, resolution, expected", [
    ("16:9", "720p", (1280, 720)), ("9:16", "720p", (720, 1280)), ("1:1", "480p", (480, 480)),
    ("4:3", "1080p", (1440, 1080)), ("3:4", "480p", (480, 640)), ("21:9", "720p", (1680, 720)),
    ("16:9", "480p", (854, 480)),
])
def test_frame_size_follows_aspect_ratio_and_resolution(aspect, resolution, expected):
    assert frame_size(aspect, resolution) == expected
    assert all(side % 2 == 0 for side in frame_size(aspect, resolution))


def test_text_to_video_honours_size_duration_and_fps():
    data, spec = render_video({"prompt": "a red sun over blue mountains", "duration": 2, "aspect_ratio": "9:16",
                               "resolution": "480p", "fps": 25})
    stream, frames, container = decode(data)
    assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (480, 854) == (spec.width, spec.height)
    assert stream.average_rate == 25
    assert len(frames) == 50
    assert container.duration / av.time_base == pytest.approx(2.0, abs=0.05)
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: playable while downloading


def test_the_camera_moves():
    _, frames, _ = decode(render_video({"prompt": "green forest with a yellow sun", "duration": 1,
                                        "resolution": "480p", "fps": 24})[0])
    first, last = frames[0].astype(int), frames[-1].astype(int)
    assert np.abs(first - last).mean() > 3


def test_same_request_same_bytes_and_other_prompts_differ():
    params = {"prompt": "ocean waves at sunset", "duration": 1, "resolution": "480p", "aspect_ratio": "1:1", "seed": 3}
    first, _ = render_video(params)
    assert render_video(dict(params))[0] == first
    other, _ = render_video({**params, "prompt": "a city of towers at night"})
    reseeded, _ = render_video({**params, "seed": 4})
    assert other != first and reseeded != first
    _, frames_a, _ = decode(first)
    _, frames_b, _ = decode(other)
    assert np.abs(frames_a[0].astype(int) - frames_b[0].astype(int)).mean() > 10


def test_image_to_video_starts_on_the_start_frame_and_ends_on_the_end_frame():
    start = gradient(640, 480, (220, 40, 40))
    end = gradient(480, 640, (40, 60, 220))
    data, spec = render_video({"prompt": "slow zoom", "duration": 2, "aspect_ratio": "4:3", "resolution": "480p",
                               "fps": 24, "image_url": data_uri(start), "end_image_url": data_uri(end)})
    _, frames, _ = decode(data)
    assert len(frames) == 48 and (spec.width, spec.height) == (640, 480)
    expected_start = np.asarray(start, dtype=int)
    assert np.abs(frames[0].astype(int) - expected_start).mean() < 8
    # The end frame is a portrait picture cover-cropped to 4:3, exactly as the engine frames it.
    expected_end = np.asarray(end.resize((640, 853)).crop((0, 186, 640, 666)), dtype=int)
    assert np.abs(frames[-1].astype(int) - expected_end).mean() < 10
    middle = frames[len(frames) // 2].astype(int)
    assert np.abs(middle - expected_start).mean() > 8  # it did not stand still


def test_generate_audio_adds_an_aac_track_of_the_clip_length():
    data, _ = render_video({"prompt": "calm lake", "duration": 2, "resolution": "480p", "aspect_ratio": "1:1",
                            "generate_audio": True})
    container = av.open(io.BytesIO(data))
    audio = container.streams.audio[0]
    assert audio.codec_context.name == "aac"
    samples = sum(frame.samples for frame in container.decode(audio))
    assert samples / audio.rate == pytest.approx(2.0, abs=0.1)
    peak = 0.0
    for frame in av.open(io.BytesIO(data)).decode(audio=0):
        peak = max(peak, float(np.abs(frame.to_ndarray()).max()))
    assert peak > 0.05  # not silence


def test_real_model_parameter_names_are_understood():
    spec = spec_from_params({"prompt": "x", "size": "1280x720", "num_frames": 33, "frames_per_second": 16})
    assert (spec.width, spec.height, spec.frame_count, spec.fps) == (1280, 720, 33, 16)
    assert (spec_from_params({"duration": "6", "aspect_ratio": "1280:720", "resolution": "4k"}).frame_count,
            spec_from_params({"resolution": "4k"}).height) == (144, 1080)


@pytest.mark.parametrize("params", [{"duration": 0}, {"duration": 31}, {"fps": 100}, {"duration": "five"}])
def test_impossible_clips_are_refused(params):
    with pytest.raises(ValueError):
        spec_from_params({"prompt": "x", **params})


@pytest.mark.parametrize("url, message", [
    ("data:image/png;base64,bm90IGFuIGltYWdl", "not a readable image"),
    ("data:text/plain;base64,aGVsbG8=", "must be an image"),
    ("data:image/png;base64,", "empty"),
    ("http://127.0.0.1:9/secret.png", "cannot be fetched"),
])
def test_bad_start_frames_are_invalid_input(url, message):
    with pytest.raises(InvalidInput) as error:
        render_video({"prompt": "x", "duration": 1, "resolution": "480p", "image_url": url})
    assert error.value.code == "invalid_input" and message in error.value.message
    assert "Start frame" in error.value.message


def test_tiny_and_huge_images_are_refused():
    tiny = data_uri(Image.new("RGB", (4, 4)))
    with pytest.raises(InvalidInput, match="too small"):
        render_video({"prompt": "x", "duration": 1, "resolution": "480p", "image_url": tiny})
    huge = render_png("x", width=64, height=64)
    # A PNG header claiming 10^5 x 10^5 pixels is refused before any pixel is decoded.
    bomb = huge[:16] + (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big") + huge[24:]
    uri = "data:image/png;base64," + base64.b64encode(bomb).decode()
    with pytest.raises(InvalidInput):
        render_video({"prompt": "x", "duration": 1, "resolution": "480p", "image_url": uri})


def test_start_frame_is_fetched_over_http_through_safe_http(settings):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = render_png("a yellow field", width=320, height=240)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/frame.png":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        settings.SAFE_FETCH_ALLOW_HOSTS = [host]  # loopback is refused unless a test allows it
        data, _ = render_video({"prompt": "x", "duration": 1, "aspect_ratio": "4:3", "resolution": "480p",
                                "image_url": f"http://{host}/frame.png"})
        _, frames, _ = decode(data)
        expected = np.asarray(Image.open(io.BytesIO(body)).convert("RGB").resize((640, 480)), dtype=int)
        assert np.abs(frames[0].astype(int) - expected).mean() < 8
        with pytest.raises(InvalidInput, match="could not be downloaded"):
            render_video({"prompt": "x", "duration": 1, "resolution": "480p", "image_url": f"http://{host}/missing"})
    finally:
        server.shutdown()
        server.server_close()
