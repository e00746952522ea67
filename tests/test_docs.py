"""The documentation stays whole: local links resolve, the README's layout names every plugin
folder, and every example plugin is a complete package that scripts/install installs."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("plugins/*/README.md")),
         *sorted(ROOT.glob("examples/*/README.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation but '-' dropped,
    spaces as '-'."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_local_link_of_the_readme_and_docs_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = page.parent / path if path else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_readme_layout_names_every_plugin_folder_and_the_examples():
    layout = (ROOT / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    for folder in sorted((ROOT / "plugins").glob("mtdnn_*")):
        assert f"plugins/{folder.name} " in layout, folder.name
    assert "examples/" in layout and "docs/" in layout


def test_every_example_plugin_is_a_tested_package_that_scripts_install_installs():
    install = (ROOT / "scripts" / "install").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = sorted((ROOT / "examples").glob("mtdnn_example_*"))
    assert len(examples) >= 6
    for example in examples:
        project = tomllib.loads((example / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        assert project["entry-points"]["mtdnn"], example.name
        assert (example / "README.md").is_file() and list((example / "tests").glob("test_*.py")), example.name
        assert f"-e examples/{example.name}" in install, example.name
        assert f"examples/{example.name}" in readme, example.name
