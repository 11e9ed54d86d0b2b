{{/* Chart name, overridable. */}}
{{- define "signet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name; truncated so component suffixes ("-frontend", "-postgresql")
still fit the 63-character DNS label limit.
*/}}
{{- define "signet.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "signet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "signet.labels" -}}
helm.sh/chart: {{ include "signet.chart" . }}
{{ include "signet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: signet
{{- end }}

{{/* The labels that identify this release's pods (never change them: selectors are immutable). */}}
{{- define "signet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "signet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Usage: include "signet.componentLabels" (dict "ctx" $ "component" "data") */}}
{{- define "signet.componentLabels" -}}
{{ include "signet.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Usage: include "signet.componentSelectorLabels" (dict "ctx" $ "component" "data") */}}
{{- define "signet.componentSelectorLabels" -}}
{{ include "signet.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Object name of a component: <fullname>-<component>. */}}
{{- define "signet.componentName" -}}
{{- printf "%s-%s" (include "signet.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "signet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "signet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "signet.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Secret holding the generated application secrets (or the operator's own). */}}
{{- define "signet.secretName" -}}
{{- default (include "signet.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* In-cluster URL of the data Service: what the frontend signs against and what the data pods see. */}}
{{- define "signet.dataUrl" -}}
{{- printf "http://%s:%d" (include "signet.componentName" (dict "ctx" . "component" "data")) (int .Values.data.service.port) }}
{{- end }}

{{/* NATS_URL as plain config (empty when it comes from a Secret or is not set). */}}
{{- define "signet.natsUrl" -}}
{{- if .Values.dev.nats.enabled }}
{{- printf "nats://%s:4222" (include "signet.componentName" (dict "ctx" . "component" "nats")) }}
{{- else if not .Values.nats.existingSecret }}
{{- .Values.nats.url }}
{{- end }}
{{- end }}

{{/* True ("true") when DATABASE_URL is available to the pods at all. */}}
{{- define "signet.hasDatabase" -}}
{{- if or .Values.dev.postgresql.enabled .Values.database.existingSecret .Values.database.url }}true{{ end }}
{{- end }}

{{/* env entry for DATABASE_URL (secretKeyRef; nothing when no database is configured). */}}
{{- define "signet.databaseEnv" -}}
{{- if .Values.database.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.existingSecretKey }}
{{- else if or .Values.dev.postgresql.enabled .Values.database.url }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "signet.fullname" . }}-database
      key: DATABASE_URL
{{- end }}
{{- end }}

{{/* env entry for NATS_URL when it is kept in a Secret (credentials in the URL). */}}
{{- define "signet.natsSecretEnv" -}}
{{- if and .Values.nats.existingSecret (not .Values.dev.nats.enabled) }}
- name: NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.existingSecret }}
      key: {{ .Values.nats.existingSecretKey }}
{{- end }}
{{- end }}

{{/* env entry reading one key of the application Secret. Usage: include "signet.secretEnv" (dict "ctx" $ "name" "SIGNET_MASTER_KEY") */}}
{{- define "signet.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "signet.secretName" .ctx }}
      key: {{ .name }}
{{- end }}

{{/*
Container securityContext of the Signet containers. readOnlyRootFilesystem is forced off
only when runFromSource=true (Tilt's live_update has to write synced files into /app).
*/}}
{{- define "signet.containerSecurityContext" -}}
{{- $sc := deepCopy .Values.securityContext }}
{{- if .Values.runFromSource }}
{{- $_ := set $sc "readOnlyRootFilesystem" false }}
{{- end }}
{{- toYaml $sc }}
{{- end }}

{{/* Command of a service container. Usage: include "signet.command" (dict "ctx" $ "component" "data") */}}
{{- define "signet.command" -}}
{{- if .ctx.Values.runFromSource }}
- node_modules/.bin/tsx
- watch
- --clear-screen=false
- --conditions=@signet/source
- services/{{ .component }}/src/server.ts
{{- else }}
- node
- services/{{ .component }}/dist/server.js
{{- end }}
{{- end }}

{{- define "signet.migrateCommand" -}}
{{- if .Values.runFromSource }}
- node_modules/.bin/tsx
- --conditions=@signet/source
- services/shared/src/db/cli-migrate.ts
{{- else }}
- node
- services/shared/dist/db/cli-migrate.js
{{- end }}
{{- end }}

{{/* The migration container, used by the Job and as the data/registry initContainer. */}}
{{- define "signet.migrateContainer" -}}
- name: {{ .name }}
  image: {{ include "signet.image" .ctx }}
  imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
  command:
    {{- include "signet.migrateCommand" .ctx | trim | nindent 4 }}
  env:
    - name: LOG_LEVEL
      value: {{ .ctx.Values.logLevel | quote }}
    {{- include "signet.databaseEnv" .ctx | trim | nindent 4 }}
  securityContext:
    {{- include "signet.containerSecurityContext" .ctx | nindent 4 }}
  resources:
    {{- toYaml .ctx.Values.migrations.resources | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/* Pod-level settings shared by the three services. Usage: include "signet.podCommon" (dict "ctx" $ "values" .Values.data) */}}
{{- define "signet.podCommon" -}}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
serviceAccountName: {{ include "signet.serviceAccountName" .ctx }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* terminationGracePeriodSeconds of a service pod, refused unless it covers the drain
delay plus the services' 25 s shutdown timeout. Usage: include "signet.terminationGracePeriod" (dict "component" "data" "values" .Values.data) */}}
{{- define "signet.terminationGracePeriod" -}}
{{- $v := .values }}
{{- if le (mul (int $v.terminationGracePeriodSeconds) 1000) (add (int $v.drainDelayMs) 25000) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%v s) must exceed %s.drainDelayMs (%v ms) plus the services' 25 s shutdown timeout" .component $v.terminationGracePeriodSeconds .component $v.drainDelayMs) }}
{{- end }}
{{- $v.terminationGracePeriodSeconds }}
{{- end }}

{{/* Probes of a service container (port named "http"). */}}
{{- define "signet.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ .ctx.Values.probes.startup.periodSeconds }}
  failureThreshold: {{ .ctx.Values.probes.startup.failureThreshold }}
  timeoutSeconds: {{ .ctx.Values.probes.startup.timeoutSeconds }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: {{ .ctx.Values.probes.readiness.periodSeconds }}
  failureThreshold: {{ .ctx.Values.probes.readiness.failureThreshold }}
  timeoutSeconds: {{ .ctx.Values.probes.readiness.timeoutSeconds }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ .ctx.Values.probes.liveness.periodSeconds }}
  failureThreshold: {{ .ctx.Values.probes.liveness.failureThreshold }}
  timeoutSeconds: {{ .ctx.Values.probes.liveness.timeoutSeconds }}
{{- end }}

{{/* Checks values that the schema cannot express. */}}
{{- define "signet.validate" -}}
{{- if and .Values.migrations.enabled .Values.migrations.asHook .Values.dev.postgresql.enabled }}
{{- fail "migrations.asHook=true cannot work with dev.postgresql.enabled=true: pre-install hooks run before the in-chart PostgreSQL exists. Set migrations.asHook=false (values-dev.yaml does)." }}
{{- end }}
{{- if and .Values.database.existingSecret .Values.database.url }}
{{- fail "set either database.url or database.existingSecret, not both" }}
{{- end }}
{{- if and .Values.dev.postgresql.enabled (or .Values.database.existingSecret .Values.database.url) }}
{{- fail "dev.postgresql.enabled=true supplies DATABASE_URL itself; unset database.url / database.existingSecret" }}
{{- end }}
{{- end }}

{{/* The writable /tmp of the Signet containers (npm's cache and tsx's too under runFromSource). */}}
{{- define "signet.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ if .Values.runFromSource }}1Gi{{ else }}{{ .Values.tmpSizeLimit }}{{ end }}
{{- end }}
