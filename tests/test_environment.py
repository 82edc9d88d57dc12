"environment.yml (conda) installs the project itself, so it reaches every requirement of settings.ini."
from configparser import ConfigParser
from importlib.metadata import requires
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from conftest import ROOT

def _settings_requirements():
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT']['requirements'].split()

def test_environment_installs_the_project():
    env = yaml.safe_load((ROOT/'environment.yml').read_text())
    assert env['name'] == 'petclassifier'
    deps = env['dependencies']
    assert any(str(d).startswith('python=3.1') for d in deps) and 'pip' in deps
    pip = next(d['pip'] for d in deps if isinstance(d, dict) and 'pip' in d)
    assert any(p.replace('-e', '').strip() in ('.', './', '.[dev]') for p in pip), pip

def test_the_project_carries_every_requirement():
    norm = lambda r: (canonicalize_name(r.name), r.specifier)
    installed = {norm(Requirement(r)) for r in requires('petclassifier') if 'extra ==' not in r}
    missing = [r for r in _settings_requirements() if norm(Requirement(r)) not in installed]
    assert not missing, f"settings.ini requirements not in the installed metadata (re-run the install): {missing}"
