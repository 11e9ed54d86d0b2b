{{/*
The three Signet services and everything that differs between them. The per-service
templates (configmap, deployment, service, pdb, hpa, networkpolicy) each range over this
list; what an operator tunes per service (replicaCount, service.port, drainDelayMs,
resources, pdb, autoscaling, extraEnv, pod placement) lives in .Values.<name>.

  name        object names <fullname>-<name>, label app.kubernetes.io/component=<name>,
              the container command services/<name>/…, the values key .Values.<name>
  migrate     runs the (idempotent, lock-protected) migration as an initContainer
              before it serves (the services that own tables)
  podNameEnv  POD_NAME from the downward API
  database    reads DATABASE_URL
  secretKeys  the keys of the application Secret it reads (env, in this order)
  config      its own ConfigMap's settings beyond those every service gets (HOST, PORT,
              LOG_LEVEL, SIGNET_DRAIN_DELAY_MS, NATS_URL); only what the service reads
  allowFrom   NetworkPolicy peers admitted to its http port (networkPolicy.metricsFrom
              is admitted to every service as well, on the port /metrics is on)
  metricsPort where /metrics is served when not on the http port (container port
              "metrics", METRICS_PORT): the frontend, whose http port is public
  nats        the subjects its NATS user may publish and subscribe (and allowResponses:
              it may answer requests it received, once each), rendered into accounts.conf
              ("signet.natsAccounts"). Derived from what the service does: data subscribes
              to the revocation and lifecycle events (revocations.ts: signet.consumer.*,
              signet.user.*, signet.token.*, signet.tokens.not_before) and discover (presence.ts) and
              publishes signet.token.revoked (logout), heartbeats, goodbyes and its
              confirmations (replies); the registry publishes the events (operations/,
              relay.ts: signet.token.revoked too) and discover, gathers confirmations on
              its inbox and hears heartbeats and goodbyes (presence.ts); the frontend uses
              only its KV buckets (kv.ts, session-store.ts, rate-limit-counters.ts: Kvm
              create, get, put, create/update, purge, status).

Usage: range $c := (include "signet.components" . | fromYaml).components
*/}}
{{- define "signet.components" -}}
components:
  - name: data
    migrate: true
    # names the pod in revocation confirmations
    podNameEnv: true
    database: true
    secretKeys: [SIGNET_MASTER_KEY]
    nats:
      publish: [signet.token.revoked, signet.pod.heartbeat, signet.pod.goodbye]
      subscribe: ["signet.consumer.*", "signet.user.*", "signet.token.*", signet.tokens.not_before, signet.pod.discover]
      allowResponses: true
    config:
      SIGNET_TIMESTAMP_WINDOW: {{ .Values.data.timestampWindow | quote }}
      SIGNET_TOKEN_TTL: {{ .Values.data.tokenTtl | quote }}
      TRUST_PROXY: {{ .Values.data.trustProxy | quote }}
      {{- with .Values.data.publicUrl }}
      SIGNET_PUBLIC_URL: {{ . | quote }}
      {{- end }}
    # only the frontend and pods labelled signet.dev/consumer: "true"
    allowFrom:
      - podSelector:
          matchLabels:
            {{- include "signet.componentSelectorLabels" (dict "ctx" . "component" "frontend") | nindent 12 }}
      - podSelector:
          matchLabels:
            signet.dev/consumer: "true"
        {{- if .Values.networkPolicy.consumersFromAllNamespaces }}
        namespaceSelector: {}
        {{- end }}

  - name: registry
    migrate: true
    podNameEnv: false
    database: true
    secretKeys: [SIGNET_MASTER_KEY, SIGNET_ADMIN_TOKENS, SIGNET_BOOTSTRAP_CONSUMERS]
    nats:
      publish: ["signet.consumer.*", "signet.user.*", signet.token.revoked, signet.tokens.not_before, signet.pod.discover]
      subscribe: [signet.pod.heartbeat, signet.pod.goodbye, "_INBOX.>"]
      allowResponses: false
    config: {}
    # the admin API: only pods of this namespace (kubectl port-forward enters the pod's
    # own network namespace and is not filtered)
    allowFrom:
      - podSelector: {}

  - name: frontend
    migrate: false
    podNameEnv: false
    database: false
    secretKeys: [SESSION_SECRET, SIGNET_CONSUMER_KEY, SIGNET_CONSUMER_SECRET]
    metricsPort: {{ .Values.frontend.metricsPort }}
    nats:
      # for each of its KV buckets (sessions, rate-limit counters; KV_<bucket> is the
      # bucket's stream): the JetStream API calls that open it, read an entry and report
      # its status, and the bucket's own subjects (writes); the answers come to its inbox
      publish:
        - "$JS.API.INFO"
        {{- range list .Values.frontend.sessionBucket .Values.frontend.rateLimitBucket }}
        - "$JS.API.STREAM.INFO.KV_{{ . }}"
        - "$JS.API.STREAM.CREATE.KV_{{ . }}"
        - "$JS.API.STREAM.MSG.GET.KV_{{ . }}"
        - "$JS.API.DIRECT.GET.KV_{{ . }}.>"
        - "$KV.{{ . }}.>"
        {{- end }}
      subscribe: ["_INBOX.>"]
      allowResponses: false
    config:
      # The data Service's in-cluster URL: the frontend signs against it and the data
      # pods see exactly this host:port, so the signature base strings match.
      DATA_URL: {{ include "signet.dataUrl" . | quote }}
      COOKIE_SECURE: {{ .Values.frontend.cookieSecure | quote }}
      TRUST_PROXY: {{ .Values.frontend.trustProxy | quote }}
      SESSION_BUCKET: {{ .Values.frontend.sessionBucket | quote }}
      RATE_LIMIT_BUCKET: {{ .Values.frontend.rateLimitBucket | quote }}
      METRICS_PORT: {{ .Values.frontend.metricsPort | quote }}
    # browsers come only through the ingress controller
    allowFrom:
      - namespaceSelector:
          {{- toYaml .Values.networkPolicy.ingressController.namespaceSelector | nindent 10 }}
        podSelector:
          {{- toYaml .Values.networkPolicy.ingressController.podSelector | nindent 10 }}
{{- end }}

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

{{/* The Secret holding the services' NATS passwords (generated by the chart, or the operator's own). */}}
{{- define "signet.natsSecretName" -}}
{{- default (printf "%s-nats" (include "signet.fullname" .)) .Values.nats.auth.existingSecret }}
{{- end }}

{{/* The environment variable the NATS configuration reads a service's password from. Usage: include "signet.natsPasswordVar" "data" */}}
{{- define "signet.natsPasswordVar" -}}
{{- printf "SIGNET_NATS_%s_PASSWORD" (upper .) }}
{{- end }}

{{/*
A service's NATS credentials beyond NATS_USER (in its ConfigMap): NATS_PASSWORD from the
NATS Secret, or nothing when a .creds file is mounted (NATS_CREDS, in the ConfigMap too);
with nats.tls, the CA it verifies the server against. Usage: include "signet.natsAuthEnv" (dict "ctx" $ "component" "data")
*/}}
{{- define "signet.natsAuthEnv" -}}
{{- if not .ctx.Values.nats.auth.credsSecret }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "signet.natsSecretName" .ctx }}
      key: {{ .component }}-password
{{- end }}
{{- if .ctx.Values.nats.tls.enabled }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/signet/nats-tls/ca.crt
{{- end }}
{{- end }}

{{/* Volume mounts of a service's NATS credentials file and CA (none by default). */}}
{{- define "signet.natsMounts" -}}
{{- if .ctx.Values.nats.auth.credsSecret }}
- name: nats-creds
  mountPath: /etc/signet/nats
  readOnly: true
{{- end }}
{{- if .ctx.Values.nats.tls.enabled }}
- name: nats-tls
  mountPath: /etc/signet/nats-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* The volumes behind "signet.natsMounts": only the service's own .creds file, only the CA of the TLS Secret. */}}
{{- define "signet.natsVolumes" -}}
{{- with .ctx.Values.nats.auth.credsSecret }}
- name: nats-creds
  secret:
    secretName: {{ . }}
    items:
      - key: {{ $.component }}.creds
        path: nats.creds
{{- end }}
{{- if .ctx.Values.nats.tls.enabled }}
- name: nats-tls
  secret:
    secretName: {{ .ctx.Values.nats.tls.secretName }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end }}

{{/* A NATS configuration list of subjects: ["a", "b"]. */}}
{{- define "signet.natsList" -}}
[{{ range $i, $s := . }}{{ if $i }}, {{ end }}{{ $s | quote }}{{ end }}]
{{- end }}

{{/*
accounts.conf: the account SIGNET (JetStream on) and one user per service, allowed only the
subjects "signet.components" lists for it (docs/kubernetes.md, "NATS as a trust boundary").
Passwords are read from the server's environment, never written here.
*/}}
{{- define "signet.natsAccounts" -}}
# NATS accounts of Signet, rendered by its Helm chart (templates/nats/configmap.yaml).
# Each service connects as its own user; the server refuses it any subject not listed
# here. Passwords come from the server's environment: the variables below, filled from
# the Secret {{ include "signet.natsSecretName" . }} (key <service>-password).
accounts {
  SIGNET {
    jetstream: enabled
    users: [
      {{- range $c := (include "signet.components" . | fromYaml).components }}
      {
        user: {{ index $.Values.nats.auth.users $c.name | quote }}
        password: ${{ include "signet.natsPasswordVar" $c.name }}
        permissions: {
          publish: { allow: {{ include "signet.natsList" $c.nats.publish }} }
          subscribe: { allow: {{ include "signet.natsList" $c.nats.subscribe }} }
          {{- if $c.nats.allowResponses }}
          # answers to the requests it received, one each
          allow_responses: true
          {{- end }}
        }
      }
      {{- end }}
    ]
  }
}
{{- end }}

{{/* nats.conf of the in-chart NATS (dev.nats): JetStream, monitoring, TLS when asked, the accounts. */}}
{{- define "signet.natsServerConf" -}}
# The in-chart NATS (dev.nats), rendered by the Signet Helm chart.
server_name: {{ include "signet.componentName" (dict "ctx" . "component" "nats") | quote }}
listen: "0.0.0.0:4222"
http: "0.0.0.0:8222"
jetstream {
  store_dir: "/data"
}
{{- if .Values.nats.tls.enabled }}
# every client connection is TLS (nats.tls.secretName)
tls {
  cert_file: "/etc/nats/tls/tls.crt"
  key_file: "/etc/nats/tls/tls.key"
  timeout: 2
}
{{- end }}
# no anonymous user: a client without a password of accounts.conf is refused
include ./accounts.conf
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
    {{- with include "signet.databaseEnv" .ctx | trim }}
    {{- . | nindent 4 }}
    {{- end }}
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
{{- with (include "signet.components" . | fromYaml).Error }}
{{- fail (printf "signet.components is not valid YAML: %s" .) }}
{{- end }}
{{- if and .Values.migrations.enabled .Values.migrations.asHook .Values.dev.postgresql.enabled }}
{{- fail "migrations.asHook=true cannot work with dev.postgresql.enabled=true: pre-install hooks run before the in-chart PostgreSQL exists. Set migrations.asHook=false (values-dev.yaml does)." }}
{{- end }}
{{- if and .Values.database.existingSecret .Values.database.url }}
{{- fail "set either database.url or database.existingSecret, not both" }}
{{- end }}
{{- if and .Values.dev.nats.enabled .Values.nats.auth.credsSecret }}
{{- fail "nats.auth.credsSecret is for an external NATS in operator (JWT) mode; the in-chart NATS (dev.nats) uses the passwords of nats.auth" }}
{{- end }}
{{- if and .Values.nats.auth.existingSecret .Values.nats.auth.credsSecret }}
{{- fail "set either nats.auth.existingSecret (passwords) or nats.auth.credsSecret (.creds files), not both" }}
{{- end }}
{{- $users := values .Values.nats.auth.users }}
{{- if ne (len $users) (len (uniq $users)) }}
{{- fail (printf "nats.auth.users must name three different users (got %s)" (join ", " (sortAlpha $users))) }}
{{- end }}
{{- if and .Values.nats.tls.enabled (not .Values.nats.tls.secretName) }}
{{- fail "nats.tls.enabled=true needs nats.tls.secretName (a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt)" }}
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


{{/* "true" when the component's values turn its HorizontalPodAutoscaler on (only data has one). Usage: include "signet.autoscaled" .Values.data */}}
{{- define "signet.autoscaled" -}}
{{- if and (hasKey . "autoscaling") .autoscaling.enabled }}true{{ end }}
{{- end }}

{{/*
The ConfigMap of one component: plain, non-secret settings only (secrets come from
Secrets), and only those its service reads. The Deployment's checksum/config is the
hash of exactly this text, so a setting of one service restarts only that service.
Usage: include "signet.configMap" (dict "ctx" $ "c" $component)
*/}}
{{- define "signet.configMap" -}}
{{- $ctx := .ctx }}
{{- $v := index $ctx.Values .c.name }}
{{- $data := dict "HOST" "0.0.0.0" "PORT" (toString $v.service.port) "LOG_LEVEL" (toString $ctx.Values.logLevel) "SIGNET_DRAIN_DELAY_MS" (toString $v.drainDelayMs) }}
{{- with include "signet.natsUrl" $ctx }}
{{- $_ := set $data "NATS_URL" . }}
{{- end }}
{{- if $ctx.Values.nats.auth.credsSecret }}
{{- $_ := set $data "NATS_CREDS" "/etc/signet/nats/nats.creds" }}
{{- else }}
{{- $_ := set $data "NATS_USER" (index $ctx.Values.nats.auth.users .c.name) }}
{{- end }}
{{- range $key, $value := .c.config }}
{{- $_ := set $data $key $value }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "signet.componentName" (dict "ctx" $ctx "component" .c.name) }}
  labels:
    {{- include "signet.componentLabels" (dict "ctx" $ctx "component" .c.name) | nindent 4 }}
data:
  {{- toYaml $data | nindent 2 }}
{{- end }}

{{/*
What one component's secret env is made of, hashed into its pod's checksum/secret: the
values given explicitly for the keys it reads (secrets.values.*, database.url, the dev
PostgreSQL password). The Secret names and keys it reads are in the pod spec already;
generated values are kept across upgrades (lookup) and so never change by themselves.
Usage: include "signet.secretInputs" (dict "ctx" $ "c" $component)
*/}}
{{- define "signet.secretInputs" -}}
{{- $values := .ctx.Values }}
{{- $given := $values.secrets.values | default dict }}
{{- $inputs := dict }}
{{- if not $values.secrets.existingSecret }}
{{- $byKey := dict "SIGNET_MASTER_KEY" $given.masterKey "SIGNET_ADMIN_TOKENS" $given.adminTokens "SESSION_SECRET" $given.sessionSecret "SIGNET_CONSUMER_KEY" $given.consumerKey "SIGNET_CONSUMER_SECRET" $given.consumerSecret }}
{{- $_ := set $byKey "SIGNET_BOOTSTRAP_CONSUMERS" (list $values.frontend.consumerName $given.consumerKey $given.consumerSecret) }}
{{- range .c.secretKeys }}
{{- $_ := set $inputs . (get $byKey .) }}
{{- end }}
{{- end }}
{{- if not (or $values.nats.auth.existingSecret $values.nats.auth.credsSecret) }}
{{- $_ := set $inputs "NATS_PASSWORD" (index $values.nats.auth.passwords .c.name) }}
{{- end }}
{{- if .c.database }}
{{- $pg := $values.dev.postgresql }}
{{- $_ := set $inputs "DATABASE_URL" (list $values.database.url $pg.enabled $pg.username $pg.password $pg.database) }}
{{- end }}
{{- toJson $inputs }}
{{- end }}
