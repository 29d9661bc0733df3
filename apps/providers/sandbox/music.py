"""The sandbox music engine: a short song synthesized from the words of the prompt.

The prompt decides the music: mood words pick the mode and tempo (sad, dark -> minor and
slow; happy, dance -> major and fast), genre words pick the instruments and the drum
pattern, and a hash of the words picks the key, chord progression and melody. "in D minor"
or "120 bpm" in the prompt are taken literally. Additive synthesis with numpy (lead, pad,
bass, drums), mixed to stereo and encoded to MP3 with PyAV's libmp3lame.

Besides the audio a song has a title, lyrics (unless instrumental) and cover art, like the
songs of hosted music services. Deterministic for (prompt, style, seed, duration, lyrics)."""
from __future__ import annotations

import hashlib
import io
import random
import re
from dataclasses import dataclass, field

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .image import render_image

RATE = 44100
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
# Chord progressions as scale degrees (0-based), one chord per bar.
PROGRESSIONS = {
    "major": [[0, 4, 5, 3], [0, 3, 4, 3], [5, 3, 0, 4], [0, 5, 3, 4], [0, 3, 0, 4]],
    "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 6, 2], [0, 5, 3, 4]],
}
SAD_WORDS = {"sad", "dark", "melancholy", "melancholic", "lonely", "rain", "rainy", "grief", "sorrow", "gloomy",
             "moody", "night", "midnight", "cold", "blue", "blues", "tears", "broken", "lost", "goodbye", "winter",
             "slow", "haunting", "minor", "somber", "noir", "storm"}
HAPPY_WORDS = {"happy", "joy", "joyful", "bright", "sunny", "summer", "dance", "party", "upbeat", "fun", "love",
               "celebrate", "celebration", "cheerful", "energetic", "fast", "uplifting", "morning", "major", "disco",
               "birthday", "festival", "hype"}


@dataclass(frozen=True)
class Timbre:
    harmonics: tuple[float, ...]
    attack: float
    decay: float  # seconds to fall to the sustain level (exponential)
    sustain: float
    release: float
    detune: float = 0.0  # cents for a second, slightly detuned voice (chorus/pad width)


TIMBRES = {
    "piano": Timbre((1, 0.55, 0.3, 0.18, 0.1, 0.05), 0.004, 0.45, 0.15, 0.12),
    "saw": Timbre(tuple(1 / n for n in range(1, 9)), 0.01, 0.2, 0.6, 0.08, detune=7),
    "square": Timbre(tuple((1 / n if n % 2 else 0.0) for n in range(1, 10)), 0.005, 0.15, 0.55, 0.05),
    "soft": Timbre((1, 0.25, 0.08), 0.03, 0.4, 0.5, 0.15),
    "pluck": Timbre((1, 0.7, 0.45, 0.3, 0.2, 0.12, 0.08), 0.002, 0.25, 0.05, 0.1),
    "pad": Timbre((1, 0.35, 0.15, 0.06), 0.35, 1.0, 0.8, 0.5, detune=9),
    "bass": Timbre((1, 0.5, 0.2, 0.08), 0.008, 0.3, 0.5, 0.06),
    "organ": Timbre((1, 0.8, 0.0, 0.5, 0.0, 0.3, 0.0, 0.2), 0.02, 0.1, 0.9, 0.08),
}


@dataclass(frozen=True)
class Genre:
    name: str
    lead: str
    bass: str
    drums: str  # a key of DRUM_PATTERNS, or "" for none
    tempo: tuple[int, int]
    pad: bool = True


GENRES = {
    "pop": Genre("pop", "piano", "bass", "pop", (92, 118)),
    "dance": Genre("dance", "saw", "bass", "dance", (118, 132)),
    "rock": Genre("rock", "square", "bass", "rock", (100, 140)),
    "jazz": Genre("jazz", "soft", "bass", "jazz", (84, 128)),
    "ambient": Genre("ambient", "soft", "pad", "", (60, 84)),
    "lofi": Genre("lofi", "piano", "bass", "lofi", (70, 90)),
    "folk": Genre("folk", "pluck", "bass", "folk", (84, 112)),
    "synth": Genre("synthwave", "saw", "bass", "pop", (96, 120)),
    "chiptune": Genre("chiptune", "square", "square", "dance", (130, 160), pad=False),
    "classical": Genre("classical", "piano", "soft", "", (66, 100)),
    "gospel": Genre("gospel", "organ", "bass", "pop", (70, 100)),
}
GENRE_WORDS = {
    "dance": "dance", "edm": "dance", "house": "dance", "techno": "dance", "disco": "dance", "club": "dance",
    "trance": "dance", "rock": "rock", "metal": "rock", "punk": "rock", "grunge": "rock", "guitar": "folk",
    "jazz": "jazz", "swing": "jazz", "blues": "jazz", "bossa": "jazz", "ambient": "ambient", "calm": "ambient",
    "meditation": "ambient", "relax": "ambient", "relaxing": "ambient", "sleep": "ambient", "drone": "ambient",
    "lofi": "lofi", "chill": "lofi", "chillhop": "lofi", "hiphop": "lofi", "folk": "folk", "acoustic": "folk",
    "country": "folk", "synth": "synth", "synthwave": "synth", "electronic": "synth", "retro": "synth",
    "80s": "synth", "chiptune": "chiptune", "8bit": "chiptune", "game": "chiptune", "arcade": "chiptune",
    "piano": "classical", "classical": "classical", "orchestral": "classical", "ballad": "classical",
    "gospel": "gospel", "church": "gospel", "organ": "gospel", "pop": "pop",
}
# Eighth-note steps (0..7) in a 4/4 bar where each drum plays, with its loudness.
DRUM_PATTERNS = {
    "pop": {"kick": {0: 1.0, 3: 0.6, 4: 0.9}, "snare": {2: 0.8, 6: 0.8}, "hat": {i: 0.35 for i in range(8)}},
    "dance": {"kick": {0: 1.0, 2: 1.0, 4: 1.0, 6: 1.0}, "snare": {2: 0.7, 6: 0.7},
              "hat": {1: 0.5, 3: 0.5, 5: 0.5, 7: 0.5}},
    "rock": {"kick": {0: 1.0, 4: 1.0, 5: 0.7}, "snare": {2: 1.0, 6: 1.0}, "hat": {i: 0.45 for i in range(8)}},
    "jazz": {"kick": {0: 0.4}, "snare": {6: 0.3}, "hat": {0: 0.35, 2: 0.35, 3: 0.25, 4: 0.35, 6: 0.35, 7: 0.25}},
    "lofi": {"kick": {0: 0.9, 5: 0.7}, "snare": {2: 0.6, 6: 0.6}, "hat": {i: 0.2 for i in range(8)}},
    "folk": {"kick": {0: 0.7, 4: 0.6}, "snare": {2: 0.4, 6: 0.4}, "hat": {}},
}
RHYTHMS = [  # melody rhythms in eighths per bar (sum 8); 0 marks a rest of one eighth
    [2, 2, 2, 2], [3, 1, 2, 2], [1, 1, 2, 1, 1, 2], [4, 2, 2], [2, 1, 1, 4], [3, 3, 2], [2, 2, 4],
    [1, 1, 1, 1, 2, 2], [2, 0, 1, 1, 2, 2],
]
STOPWORDS = {"a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "with", "about", "from", "by",
             "song", "songs", "music", "track", "tune", "beat", "beats", "instrumental", "vocals", "vocal", "style",
             "is", "it", "my", "me", "i", "we", "our", "your", "that", "this", "some", "very", "like", "into",
             "bpm", "minor", "major", "feel", "feeling", "vibe", "vibes", "make", "write", "create", "generate"}
LINE_TEMPLATES = [
    "{a} on my mind tonight", "Walking through the {a}", "Every {a} turns to {b}", "I hear the {a} calling",
    "Hold on to the {a}", "We were {a}, we were {b}", "Under a {a} sky", "Nothing but the {a} and me",
    "Where the {a} meets the {b}", "Chasing {a} till the morning", "Let the {a} carry me home",
    "In the {a} I found you", "Say my name like {a}", "All the {a} we left behind", "Dancing in the {a}",
    "Counting every {a}", "The {a} is all we need", "Follow the {b} through the {a}",
]
FILLER_WORDS = ["light", "road", "heart", "fire", "river", "sky", "dream", "home", "echo", "gold"]
CHORUS_TEMPLATES = ["Oh, {title}", "{title}, don't let go", "Sing it out, {title}", "{title}, take me higher",
                    "We are {title}", "Stay with me, {title}"]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _content_words(words: list[str]) -> list[str]:
    known = set(GENRE_WORDS) | STOPWORDS
    return [w for w in dict.fromkeys(words) if w not in known and len(w) > 2 and not w.isdigit()]


@dataclass
class Plan:
    """Everything musical decided from the prompt: what a listener would call the song's style."""

    root: int  # 0 = C
    mode: str  # major | minor
    tempo: int  # beats per minute
    genre: Genre
    progression: list[int]
    title: str
    lyrics: str
    seed: int = 0
    words: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{NOTE_NAMES[self.root]} {self.mode}"


def _explicit_key(text: str) -> tuple[int, str] | None:
    # The note letter must be a capital: "a minor detail" is not in A minor.
    match = re.search(r"\b([A-G])(#|b|\s*sharp|\s*flat)?\s+([Mm]ajor|[Mm]inor)\b", text)
    if not match:
        return None
    root = NOTE_NAMES.index(match.group(1))
    accidental = (match.group(2) or "").strip()
    if accidental in {"#", "sharp"}:
        root += 1
    elif accidental in {"b", "flat"}:
        root -= 1
    return root % 12, match.group(3).lower()


def make_title(prompt: str, seed: int = 0) -> str:
    content = _content_words(_words(prompt))
    rng = _rng("title", prompt.strip().lower(), seed)
    moodless = [w for w in content if w not in SAD_WORDS | HAPPY_WORDS]
    if len(moodless) < 2:
        moodless = content
    if not moodless:
        return "Untitled Sketch"
    picks = moodless[:6]
    if len(picks) == 1:
        return picks[0].capitalize()
    a, b = rng.sample(picks, 2)
    template = rng.choice(["{a} {b}", "The {a} of {b}", "{a} in the {b}", "{a} and {b}", "{b} {a}"])
    return template.format(a=a.capitalize(), b=b.capitalize())


def make_lyrics(prompt: str, title: str, *, seed: int = 0, seconds: int = 30) -> str:
    rng = _rng("lyrics", prompt.strip().lower(), title, seed)
    content = _content_words(_words(prompt))
    # A prompt of one or two words would make every line the same; common song words fill in.
    content += rng.sample([w for w in FILLER_WORDS if w not in content], max(0, 4 - len(content)))

    def line() -> str:
        a, b = rng.sample(content, 2)
        text = rng.choice(LINE_TEMPLATES).format(a=a, b=b)
        return text[0].upper() + text[1:]

    def verse() -> list[str]:
        return [line() for _ in range(4)]

    chorus = [rng.choice(CHORUS_TEMPLATES).format(title=title) for _ in range(2)] + [line(), line()]
    sections = [("Verse 1", verse()), ("Chorus", chorus)]
    if seconds >= 45:
        sections += [("Verse 2", verse()), ("Chorus", chorus)]
    return "\n\n".join(f"[{name}]\n" + "\n".join(lines) for name, lines in sections)


def plan_song(prompt: str, *, style: str = "", seed: int = 0, title: str = "", lyrics: str = "",
              instrumental: bool = False, seconds: int = 30) -> Plan:
    text = f"{prompt} {style}".strip()
    words = _words(text)
    wordset = set(words)
    rng = _rng("song", text.lower(), seed)
    genre_votes = [GENRE_WORDS[w] for w in words if w in GENRE_WORDS]
    genre = GENRES[genre_votes[0]] if genre_votes else GENRES[rng.choice(["pop", "pop", "folk", "synth", "lofi"])]
    sad, happy = len(wordset & SAD_WORDS), len(wordset & HAPPY_WORDS)
    mode = "minor" if sad > happy else "major" if happy > sad else rng.choice(["major", "minor"])
    explicit = _explicit_key(text)
    root = rng.randrange(12)
    if explicit:
        root, mode = explicit
    low, high = genre.tempo
    if sad > happy:
        low, high = max(56, low - 24), max(64, high - 24)
    elif happy > sad:
        low, high = low + 10, high + 14
    tempo = rng.randint(low, high)
    bpm = re.search(r"\b(\d{2,3})\s*bpm\b", text.lower())
    if bpm:
        tempo = min(200, max(50, int(bpm.group(1))))
    progression = rng.choice(PROGRESSIONS[mode])
    title = title.strip() or make_title(prompt, seed)
    if instrumental:
        lyrics = ""
    elif not lyrics.strip():
        lyrics = make_lyrics(prompt, title, seed=seed, seconds=seconds)
    return Plan(root, mode, tempo, genre, progression, title, lyrics.strip(), seed, words)


# ---- synthesis ------------------------------------------------------------------------------
def _freq(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


class _Voice:
    """Renders notes of one timbre, caching each (pitch, length) since songs repeat themselves."""

    def __init__(self, timbre: Timbre, rate: int):
        self.timbre, self.rate = timbre, rate
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def note(self, midi: int, samples: int) -> np.ndarray:
        key = (midi, samples)
        if key not in self._cache:
            self._cache[key] = self._render(midi, samples)
        return self._cache[key]

    def _render(self, midi: int, samples: int) -> np.ndarray:
        timbre = self.timbre
        release = int(timbre.release * self.rate)
        total = samples + release
        t = np.arange(total, dtype=np.float32) / self.rate
        base = _freq(midi)
        wave = np.zeros(total, dtype=np.float32)
        for number, amplitude in enumerate(timbre.harmonics, start=1):
            if amplitude and base * number < self.rate / 2.2:  # no harmonics above Nyquist (aliasing)
                wave += amplitude * np.sin(2 * np.pi * base * number * t, dtype=np.float32)
                if timbre.detune:
                    detuned = base * number * 2 ** (timbre.detune / 1200)
                    wave += 0.6 * amplitude * np.sin(2 * np.pi * detuned * t + 1.3, dtype=np.float32)
        wave /= max(1e-6, float(np.max(np.abs(wave))))
        envelope = np.empty(total, dtype=np.float32)
        attack = max(1, min(samples, int(timbre.attack * self.rate)))
        envelope[:attack] = np.linspace(0, 1, attack, dtype=np.float32)
        held = t[attack:samples] - timbre.attack
        envelope[attack:samples] = timbre.sustain + (1 - timbre.sustain) * np.exp(-held / max(1e-3, timbre.decay / 3))
        level = envelope[samples - 1] if samples > attack else 1.0
        envelope[samples:] = level * np.linspace(1, 0, total - samples, dtype=np.float32)
        return wave * envelope


def _drum_kit(rate: int, seed: int) -> dict[str, np.ndarray]:
    noise = np.random.default_rng(seed).uniform(-1, 1, int(rate * 0.3)).astype(np.float32)
    t = np.arange(int(rate * 0.3), dtype=np.float32) / rate
    sweep = 48 + 110 * np.exp(-t * 35)
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / rate).astype(np.float32) * np.exp(-t * 9)
    snare = 0.55 * noise * np.exp(-t * 22) + 0.35 * np.sin(2 * np.pi * 185 * t) * np.exp(-t * 25)
    hat = np.diff(noise, prepend=0.0)[: int(rate * 0.08)] * np.exp(-t[: int(rate * 0.08)] * 70) * 0.5
    return {"kick": kick.astype(np.float32), "snare": snare.astype(np.float32), "hat": hat.astype(np.float32)}


def _add(track: np.ndarray, start: int, sound: np.ndarray, gain: float) -> None:
    if start >= track.shape[-1]:
        return
    end = min(track.shape[-1], start + sound.shape[-1])
    track[start:end] += gain * sound[: end - start]


def _chord(plan: Plan, bar: int) -> list[int]:
    scale = SCALES[plan.mode]
    degree = plan.progression[bar % len(plan.progression)]
    return [scale[(degree + step) % 7] + 12 * ((degree + step) // 7) for step in (0, 2, 4)]


def _melody_bar(plan: Plan, rng: random.Random, chord: list[int], previous: int) -> tuple[list, int]:
    """[(eighths, scale step or None for a rest)] for one bar, and the last step; strong beats
    land on chord tones."""
    scale = SCALES[plan.mode]
    rhythm = rng.choice(RHYTHMS)
    notes, position, step = [], 0, previous
    chord_steps = [scale.index(p % 12) if p % 12 in scale else 0 for p in chord]
    for length in rhythm:
        if length == 0:
            notes.append((1, None))
            position += 1
            continue
        if position % 4 == 0:  # beats 1 and 3
            candidates = [c + 7 * octave for c in chord_steps for octave in (0, 1)]
            step = min(candidates, key=lambda c: (abs(c - step), c))
        else:
            step = max(0, min(11, step + rng.choice([-2, -1, -1, 1, 1, 2, 0])))
        notes.append((length, step))
        position += length
    return notes, step


def _midi(plan: Plan, step: int, octave_base: int) -> int:
    scale = SCALES[plan.mode]
    return octave_base + plan.root + scale[step % 7] + 12 * (step // 7)


def synthesize(plan: Plan, seconds: float, rate: int = RATE, *, with_drums: bool = True,
               with_lead: bool = True) -> np.ndarray:
    """Stereo float32 samples, shape (2, seconds * rate), peak-normalised."""
    total = int(round(seconds * rate))
    beat = 60.0 / plan.tempo
    eighth = int(round(beat / 2 * rate))
    bar_len = eighth * 8
    bars = total // bar_len + 2
    swing = int(eighth * 0.18) if plan.genre.name in {"jazz", "lofi"} else 0
    left, right, centre = (np.zeros(total, dtype=np.float32) for _ in range(3))
    lead = _Voice(TIMBRES[plan.genre.lead], rate)
    bass = _Voice(TIMBRES[plan.genre.bass], rate)
    pad = _Voice(TIMBRES["pad"], rate)
    kit = _drum_kit(rate, plan.seed)
    pattern = DRUM_PATTERNS.get(plan.genre.drums) if with_drums else None
    motif_rng = {section: _rng("motif", " ".join(plan.words), plan.seed, section) for section in ("verse", "chorus")}
    motifs: dict[tuple[str, int], list] = {}
    step = 4
    for bar in range(bars):
        start = bar * bar_len
        chord = _chord(plan, bar)
        section = "chorus" if (bar // 8) % 2 == 1 else "verse"
        intro = bar < 2
        if plan.genre.pad:
            for pitch in chord:
                _add(right if pitch % 2 else left, start, pad.note(48 + plan.root + pitch, bar_len), 0.16)
        root_note = 36 + plan.root + chord[0]
        bass_hits = [0, 4] if plan.genre.name not in {"dance", "chiptune"} else [0, 1, 2, 3, 4, 5, 6, 7]
        for hit in bass_hits:
            length = eighth * (4 if len(bass_hits) == 2 else 1)
            _add(centre, start + hit * eighth, bass.note(root_note, int(length * 0.9)), 0.42)
        if pattern and not intro:
            for drum, hits in pattern.items():
                gain = {"kick": 0.75, "snare": 0.45, "hat": 0.25}[drum]
                for position, loudness in hits.items():
                    offset = position * eighth + (swing if position % 2 else 0)
                    target = right if drum == "hat" else centre
                    _add(target, start + offset, kit[drum], gain * loudness)
        if with_lead and not intro:
            # Motifs of 2 bars repeat inside a section, so the tune is recognisable.
            key = (section, bar % 2)
            if key not in motifs:
                motifs[key], step = _melody_bar(plan, motif_rng[section], chord, step)
            position = 0
            octave = 60 if section == "verse" else 67
            for length, note_step in motifs[key]:
                if note_step is not None:
                    offset = position * eighth + (swing if position % 2 else 0)
                    samples = int(length * eighth * 0.92)
                    note = lead.note(_midi(plan, note_step, octave), samples)
                    _add(left, start + offset, note, 0.24)
                    _add(right, start + offset, note, 0.16)
                position += length
    stereo = np.stack([left + centre, right + centre])
    fade_in, fade_out = int(0.02 * rate), min(total // 4, int(2.0 * rate))
    stereo[:, :fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    stereo[:, total - fade_out:] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    peak = float(np.max(np.abs(stereo))) or 1.0
    return (stereo * (0.89 / peak)).astype(np.float32)


def ambient_track(prompt: str, *, seed: int = 0, seconds: float = 5, rate: int = 48000) -> np.ndarray:
    """A quiet pad and bass bed in the prompt's key and mood (for sandbox videos with audio)."""
    plan = plan_song(prompt, seed=seed, instrumental=True, seconds=int(seconds))
    plan.genre = GENRES["ambient"]
    return synthesize(plan, seconds, rate, with_drums=False, with_lead=False) * 0.6


# ---- files --------------------------------------------------------------------------------
def encode_mp3(samples: np.ndarray, rate: int, *, bitrate: int = 160_000) -> bytes:
    """MP3 bytes of float32 samples shaped (channels, n)."""
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        # LAME's quality level 7 encodes about twice as fast; the sandbox does not need more.
        stream = container.add_stream("libmp3lame", rate=rate, layout=layout, options={"compression_level": "7"})
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32), format="fltp",
                                           layout=layout)
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def render_cover(plan: Plan, prompt: str, *, size: int = 1024) -> bytes:
    """Square artwork from the prompt's picture with the title set across the bottom."""
    image = render_image(f"{plan.title} {prompt}", seed=plan.seed, width=size, height=size).convert("RGBA")
    band = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    font_size = max(16, size // 14)
    font = ImageFont.load_default(size=font_size)
    title = plan.title if len(plan.title) <= 28 else plan.title[:27] + "…"
    top = size - int(font_size * 2.4)
    draw.rectangle([0, top, size, size], fill=(0, 0, 0, 150))
    draw.text((size // 20, top + font_size // 2), title, font=font, fill=(255, 255, 255, 240))
    image = Image.alpha_composite(image, band).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@dataclass
class Song:
    audio: bytes
    cover: bytes
    plan: Plan
    seconds: int

    @property
    def meta(self) -> dict:
        return {"title": self.plan.title, "lyrics": self.plan.lyrics, "key": self.plan.key,
                "tempo_bpm": self.plan.tempo, "genre": self.plan.genre.name,
                "instrumental": not self.plan.lyrics}


def render_song(params: dict) -> Song:
    seconds = int(params.get("duration") or 30)
    if not 1 <= seconds <= 600:
        raise ValueError("Duration must be 1 to 600 seconds.")
    # Lyrics-only music models have no prompt: the song then follows the words of the lyrics.
    prompt = str(params.get("prompt") or params.get("lyrics") or params.get("style") or "")[:1000]
    plan = plan_song(prompt, style=str(params.get("style") or ""), seed=int(params.get("seed") or 0),
                     title=str(params.get("title") or ""), lyrics=str(params.get("lyrics") or ""),
                     instrumental=bool(params.get("instrumental")), seconds=seconds)
    audio = encode_mp3(synthesize(plan, seconds), RATE)
    return Song(audio=audio, cover=render_cover(plan, prompt), plan=plan, seconds=seconds)
