"""A normal (non-editable) install ships themes/, skills/, the benchmark's workload and
the `tokenopt` script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def test_wheel_ships_themes_and_skills_found_through_importlib_resources(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d",
                            str(tmp_path / "dist")], cwd=REPO, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tokenopt_tui/skills/README.md" in names
    assert any(n.startswith("tokenopt_tui/themes/") and n.endswith(".toml") for n in names)
    assert "tokenopt_tui/store/migrations/0001_initial.sql" in names
    assert "tokenopt_tui/workload/day.jsonl" in names  # `tokenopt bench`'s simulated day
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tokenopt = tokenopt_tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    code = ("from tokenopt_tui.resources import bundled_dir; "
            "print(bundled_dir('skills')); print(bundled_dir('themes')); "
            "from tokenopt_tui.core.bench.workload import workload_dir; print(workload_dir())")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(target)!r}); {code}"], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    skills, themes, workload = (Path(line) for line in out.stdout.split())
    assert workload == target / "tokenopt_tui" / "workload" and (workload / "day.jsonl").is_file()
    assert skills == target / "tokenopt_tui" / "skills" and (skills / "README.md").is_file()
    assert themes == target / "tokenopt_tui" / "themes" and list(themes.glob("*.toml"))
