"""Installs the ``mmaction`` package (AIM: adapting image models for video action recognition)."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def read_requirements(name: str) -> list:
    lines = (HERE / name).read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


def read_version() -> str:
    scope: dict = {}
    exec((HERE / "mmaction" / "version.py").read_text(), scope)
    return scope["__version__"]


setup(
    name="aim-mmaction",
    version=read_version(),
    description="AIM: frozen CLIP ViT with spatial/temporal/joint adapters for video action recognition",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    # projects/: what the demo configs import by name (custom_imports), e.g. projects.tiny_demo
    packages=find_packages(include=["mmaction", "mmaction.*", "projects", "projects.*"]),
    install_requires=read_requirements("requirements.txt"),
    extras_require={"tests": ["pytest>=7", "pytest-timeout>=2.1"]},
    zip_safe=False,
)
