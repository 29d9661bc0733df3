"""The sandbox music engine: MP3 songs whose key, tempo and words follow the prompt."""
import io

import av
import numpy as np
import pytest
from PIL import Image

from apps.providers.sandbox.music import RATE, SCALES, plan_song, render_song, synthesize


def decoded_seconds(data: bytes) -> float:
    container = av.open(io.BytesIO(data))
    stream = container.streams.audio[0]
    assert stream.codec_context.name in {"mp3", "mp3float"} and stream.channels == 2
    return sum(frame.samples for frame in container.decode(stream)) / stream.rate


def test_song_is_an_mp3_of_the_requested_length_with_title_lyrics_and_cover():
    song = render_song({"prompt": "a happy summer road trip song", "duration": 12, "seed": 1})
    assert decoded_seconds(song.audio) == pytest.approx(12, abs=0.1)
    assert song.meta["title"] and song.meta["instrumental"] is False
    assert "[Chorus]" in song.meta["lyrics"] and song.meta["title"] in song.meta["lyrics"]
    with Image.open(io.BytesIO(song.cover)) as cover:
        assert cover.format == "PNG" and cover.size == (1024, 1024)


def test_same_request_same_bytes_other_prompt_other_song():
    params = {"prompt": "lofi beats for a rainy afternoon", "duration": 10}
    first = render_song(params)
    assert render_song(dict(params)).audio == first.audio
    assert render_song({**params, "prompt": "epic rock anthem"}).audio != first.audio


def test_mood_words_set_mode_and_tempo():
    sad = plan_song("a sad slow song about lonely winter nights", seed=0)
    happy = plan_song("a happy upbeat dance party", seed=0)
    assert sad.mode == "minor" and happy.mode == "major"
    assert sad.tempo < 100 < happy.tempo
    assert happy.genre.name == "dance"


def test_different_prompts_give_different_keys_or_tempos():
    plans = [plan_song(prompt) for prompt in ["ocean", "mountain", "desert", "forest", "city", "river"]]
    assert len({(plan.key, plan.tempo) for plan in plans}) >= 5
    assert len({plan.key for plan in plans}) >= 3


def test_key_and_tempo_in_the_prompt_are_taken_literally():
    plan = plan_song("a jazz ballad in F# minor at 96 bpm")
    assert (plan.key, plan.tempo, plan.genre.name) == ("F# minor", 96, "jazz")


def test_the_notes_played_belong_to_the_key():
    plan = plan_song("a calm piano piece in D major")
    samples = synthesize(plan, 8, with_drums=False).mean(axis=0)
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / RATE)
    audible = (freqs > 60) & (freqs < 2000)
    pitch_class = np.round(12 * np.log2(freqs[audible] / 440.0) + 69).astype(int) % 12
    energy = np.bincount(pitch_class, weights=spectrum[audible], minlength=12)
    in_key = {(plan.root + step) % 12 for step in SCALES[plan.mode]}
    assert energy[sorted(in_key)].sum() / energy.sum() > 0.8


def test_given_title_and_lyrics_are_used_and_instrumental_has_none():
    song = render_song({"prompt": "x", "title": "My Own Title", "lyrics": "la la la\nna na na", "duration": 10})
    assert song.meta["title"] == "My Own Title" and song.meta["lyrics"] == "la la la\nna na na"
    assert render_song({"prompt": "drifting clouds", "instrumental": True, "duration": 10}).meta["lyrics"] == ""


def test_a_prompt_without_content_words_still_makes_a_song():
    song = render_song({"prompt": "a song", "duration": 10})
    assert song.meta["title"] and len(set(song.meta["lyrics"].splitlines())) > 4
