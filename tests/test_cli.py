"""The command line, run as a user runs it: ``python -m viewgen ...`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
    env.update(VIEWGEN_DATA_DIR=str(tmp_path / "data"),
               VIEWGEN_SECRETS_FILE=str(tmp_path / "none.toml"), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "viewgen", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_generate_json_writes_five_views(tmp_path: Path) -> None:
    out = tmp_path / "views"
    proc = run(tmp_path, "generate", "--text", "navy leather messenger bag with a tan strap",
               "--auto-approve", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "complete"
    assert set(result["views"]) == {"front", "back", "side", "top", "bottom"}
    for name, written in result["views"].items():
        assert Path(written["path"]) == out / f"{name}.png"
        assert written["prompt"]  # the prompt each view was drawn from, as the API gives it
        with Image.open(written["path"]) as img:
            assert img.size == (1024, 1024)
    features = result["features"]
    assert set(features) >= {"colors", "materials", "keyElements", "estimatedDimensions",
                             "description"}
    assert {"hex", "name", "usage"} <= set(features["colors"][0])
    assert "navy" in [c["name"] for c in features["colors"]]
    assert "leather" in features["materials"]
    assert set(result["consistency"]) == {"back", "side", "top", "bottom"}
    # the seed's price: a product is 3 credits, its four other views included
    assert result["prices"] == {"front": 3, "retry": 2, "view": 0, "regenerate": 1,
                                "hero": 1, "product": 3}
    assert result["credits"]["charged"] == 3
    assert result["credits"]["balance"] == 50 - 3
    assert set(features["estimatedDimensions"]) >= {"width", "height", "depth", "unit"}
    assert result["next"]["action"] == "regenerate" and result["next"]["credits"] == 1


def test_generate_with_hero_writes_six_views_and_charges_the_hero(tmp_path: Path) -> None:
    out = tmp_path / "views"
    proc = run(tmp_path, "generate", "--text", "red leather handbag", "--auto-approve", "--hero",
               "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result["views"]) == {"front", "back", "side", "top", "bottom", "hero"}
    assert (out / "hero.png").is_file() and "three-quarter" in result["views"]["hero"]["prompt"]
    assert result["credits"]["charged"] == 3 + 1  # the product, then the hero at its price


def test_review_flow_without_auto_approve(tmp_path: Path) -> None:
    out = tmp_path / "views"
    proc = run(tmp_path, "generate", "--text", "burgundy ceramic mug", "--out", str(out),
               "--json")
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)
    assert first["status"] == "front_review" and list(first["views"]) == ["front"]
    proc = run(tmp_path, "reject", first["approval_id"], "--feedback", "make it navy",
               "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["credits"]["charged"] == 2
    proc = run(tmp_path, "approve", first["approval_id"], "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    done = json.loads(proc.stdout)
    assert done["status"] == "complete"
    assert "navy" in [c["name"] for c in done["features"]["colors"]]


def test_errors_go_to_stderr_with_nonzero_exit(tmp_path: Path) -> None:
    proc = run(tmp_path, "generate", "--text", "   ", "--json")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Describe the product" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    proc = run(tmp_path, "generate", "--image", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    proc = run(tmp_path, "generate", "--image", str(tmp_path / "missing.png"))
    assert proc.returncode == 1 and "Could not read the image file" in proc.stderr


def test_users_add_list_grant(tmp_path: Path) -> None:
    proc = run(tmp_path, "users", "add", "boss@example.com", "--admin", "--credits", "12",
               "--password", "long enough")
    assert proc.returncode == 0, proc.stderr
    assert "boss@example.com (admin) with 12 credits" in proc.stdout
    assert run(tmp_path, "users", "grant", "boss@example.com", "5").returncode == 0
    listing = run(tmp_path, "users", "list").stdout
    assert "boss@example.com" in listing and "17 credits" in listing
    dup = run(tmp_path, "users", "add", "boss@example.com", "--no-password")
    assert dup.returncode == 1 and "already exists" in dup.stderr


def _balance(tmp_path: Path) -> str:
    proc = run(tmp_path, "users", "list")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_out_that_is_an_existing_file_is_refused_before_any_charge(tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    proc = run(tmp_path, "generate", "--text", "red mug", "--auto-approve",
               "--out", str(existing))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: --out {existing} is an existing file, not a folder")
    assert "Nothing was generated or charged." in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert existing.read_text() == "keep me"
    # no account was even created, so no credits can have been reserved
    assert "cli@viewgen.local" not in _balance(tmp_path)


def test_out_that_cannot_be_written_is_refused_before_any_charge(tmp_path: Path) -> None:
    # /proc refuses new files even to root, for whom a chmod'ed folder is still writable
    proc = run(tmp_path, "generate", "--text", "red mug", "--out", "/proc/viewgen-views")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: --out /proc/viewgen-views cannot be written "
                                  "(its nearest existing parent /proc)")
    assert "Traceback" not in proc.stderr
    assert "cli@viewgen.local" not in _balance(tmp_path)


def test_out_holding_a_folder_named_like_a_view_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "views"
    (out / "front.png").mkdir(parents=True)
    proc = run(tmp_path, "generate", "--text", "red mug", "--out", str(out))
    assert proc.returncode == 1
    assert "already has a folder named front.png" in proc.stderr
    assert "cli@viewgen.local" not in _balance(tmp_path)


def test_batch_writes_marketplace_presets_and_refuses_a_bad_one_before_spending(
        tmp_path: Path) -> None:
    csv_file = tmp_path / "catalogue.csv"
    csv_file.write_text("sku,text\nMUG-1,a teal ceramic mug\n")
    refused = run(tmp_path, "batch", str(csv_file), "--out", str(tmp_path / "out"),
                  "--preset", "no-such-market")
    assert refused.returncode != 0 and "preset" in refused.stderr.lower()
    assert not (tmp_path / "out").exists()
    assert json.loads(run(tmp_path, "jobs", "list", "--json").stdout) == []  # nothing queued
    done = run(tmp_path, "batch", str(csv_file), "--out", str(tmp_path / "out"),
               "--preset", "instagram-4x5", "--json")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out" / "MUG-1" / "instagram-4x5" / "front.jpg") as shot:
        assert shot.size == (1080, 1350)
    assert (tmp_path / "out" / "MUG-1" / "front.png").exists()
