"""Schema fragments shared by catalog entries."""


def prompt(max_length: int = 4000, required: bool = True, label: str = "Prompt") -> dict:
    return {
        "name": "prompt",
        "type": "text",
        "label": label,
        "required": required,
        "min_length": 1 if required else 0,
        "max_length": max_length,
        "widget": "textarea",
    }


def seed(maximum: int = 2_147_483_647) -> dict:
    return {"name": "seed", "type": "integer", "min": 0, "max": maximum, "advanced": True,
            "help": "Same seed and prompt give the same result."}


def enum(name: str, choices: list, default=None, label: str | None = None, **extra) -> dict:
    spec = {"name": name, "type": "enum", "choices": choices, "default": default if default is not None else choices[0]}
    if label:
        spec["label"] = label
    spec.update(extra)
    return spec


def integer(name: str, minimum: int, maximum: int, default: int | None = None, **extra) -> dict:
    spec = {"name": name, "type": "integer", "min": minimum, "max": maximum}
    if default is not None:
        spec["default"] = default
    spec.update(extra)
    return spec
