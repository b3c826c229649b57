"""File contents of a small but real Helm chart, for `gitops demo` and `gitops init`.

The templates really use the values (image, replicas, resources, env, service port), so what a
promotion changes in values is what a cluster would run.
"""

from __future__ import annotations

CHART_YAML = """\
apiVersion: v2
name: {app}
description: The {app} service
type: application
version: {chart_version}
appVersion: "{tag}"
"""

VALUES_YAML = """\
# Defaults shared by every environment; each environment overrides in values-<env>.yaml.
replicaCount: 1

image:
  repository: {image}
  tag: "{tag}"
  pullPolicy: IfNotPresent

service:
  type: ClusterIP
  port: {port}

resources:
  requests:
    cpu: 50m
    memory: 64Mi

env:
  LOG_LEVEL: info
"""

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}
  labels:
    app.kubernetes.io/name: {{{{ .Chart.Name }}}}
    app.kubernetes.io/instance: {{{{ .Release.Name }}}}
spec:
  replicas: {{{{ .Values.replicaCount }}}}
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{{{ .Release.Name }}}}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{{{ .Release.Name }}}}
    spec:
      containers:
        - name: app
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
          imagePullPolicy: {{{{ .Values.image.pullPolicy }}}}
          ports:
            - name: http
              containerPort: {port}
              protocol: TCP
          env:
            {{{{- range $name, $value := .Values.env }}}}
            - name: {{{{ $name }}}}
              value: {{{{ $value | quote }}}}
            {{{{- end }}}}
          resources:
            {{{{- toYaml .Values.resources | nindent 12 }}}}
"""

SERVICE_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: {{{{ .Release.Name }}}}
spec:
  type: {{{{ .Values.service.type }}}}
  selector:
    app.kubernetes.io/instance: {{{{ .Release.Name }}}}
  ports:
    - name: http
      port: {{{{ .Values.service.port }}}}
      targetPort: http
"""

ENV_VALUES = {
    "dev": "# dev: developers' playground, no availability promise\nreplicaCount: 1\nenv:\n  LOG_LEVEL: debug\n",
    "stg": "# stg: developers as users (90%)\nreplicaCount: 2\nenv:\n  LOG_LEVEL: info\n",
    "prd": (
        "# prd: general public (99.5%)\nreplicaCount: 3\nresources:\n  requests:\n    cpu: 200m\n"
        "    memory: 256Mi\nenv:\n  LOG_LEVEL: warn\n"
    ),
}


def env_values(env: str) -> str:
    """The values file of `env`; prd-eu starts as prd's (regions of one tier share a profile)."""
    known = ENV_VALUES.get(env) or ENV_VALUES.get(env.partition("-")[0])
    if known is None:
        return f"# {env}\nreplicaCount: 1\nenv:\n  LOG_LEVEL: info\n"
    return known if env in ENV_VALUES else f"# {env}: " + known.split(": ", 1)[1]


def chart_files(
    app: str,
    *,
    image: str,
    tag: str,
    port: int = 8080,
    chart_version: str = "0.1.0",
    envs: tuple[str, ...] = ("dev", "stg", "prd"),
    base: str = "apps",
) -> dict[str, str]:
    """Every file of one app's chart, keyed by repository path."""
    fields = {"app": app, "image": image, "tag": tag, "port": port, "chart_version": chart_version}
    root = f"{base}/{app}"
    files = {
        f"{root}/Chart.yaml": CHART_YAML.format(**fields),
        f"{root}/values.yaml": VALUES_YAML.format(**fields),
        f"{root}/templates/deployment.yaml": DEPLOYMENT_YAML.format(**fields),
        f"{root}/templates/service.yaml": SERVICE_YAML.format(**fields),
    }
    for env in envs:
        files[f"{root}/values-{env}.yaml"] = env_values(env)
    return files
