{{/*
Helpers shared by the templates. Names follow the `helm create` scaffold.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "geecache.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, at most 63 characters (the DNS label limit of
Service names). A release name that already contains the chart name is used
as it is, so release "geecache" gives "geecache", not "geecache-geecache".
*/}}
{{- define "geecache.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "geecache.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "geecache.labels" -}}
helm.sh/chart: {{ include "geecache.chart" . }}
{{ include "geecache.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: name and instance only. They are immutable in the
StatefulSet's selector, so nothing that changes between releases goes here.
*/}}
{{- define "geecache.selectorLabels" -}}
app.kubernetes.io/name: {{ include "geecache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "geecache.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "geecache.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the headless Service listing the peers; discovery watches its
EndpointSlices (GEECACHE_SERVICE). Shortened so "-peers" fits in 63 characters.
*/}}
{{- define "geecache.peersServiceName" -}}
{{- printf "%s-peers" (include "geecache.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{/*
Name of the StatefulSet: at most 52 characters, because the controller puts
"<name>-<10-character hash>" in each pod's controller-revision-hash label,
and label values stop at 63.
*/}}
{{- define "geecache.statefulSetName" -}}
{{- include "geecache.fullname" . | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/* Name of the Role (and its RoleBinding) that lets discovery read EndpointSlices. */}}
{{- define "geecache.roleName" -}}
{{- printf "%s-endpointslice-reader" (include "geecache.fullname" .) }}
{{- end }}

{{/* Image reference; the tag defaults to the chart's appVersion. */}}
{{- define "geecache.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
GEECACHE_GROUPS: the groups list as comma-separated name:bytes[:freshness]:source, the freshness
being <ttl>[+stale-while-revalidate=<d>][+stale-if-error=<d>] (0s when only a stale window is set).
values.schema.json checks each field's shape; here only emptiness is checked.
*/}}
{{- define "geecache.groups" -}}
{{- $groups := list }}
{{- range .Values.groups }}
{{- /* Whole numbers from a values file arrive as float64 and would print as 6.7108864e+07. */}}
{{- $bytes := .bytes }}
{{- if kindIs "float64" $bytes }}{{ $bytes = int64 $bytes }}{{ end }}
{{- if or .ttl .staleWhileRevalidate .staleIfError }}
{{- $freshness := .ttl | default "0s" }}
{{- with .staleWhileRevalidate }}{{ $freshness = printf "%s+stale-while-revalidate=%s" $freshness . }}{{ end }}
{{- with .staleIfError }}{{ $freshness = printf "%s+stale-if-error=%s" $freshness . }}{{ end }}
{{- $groups = append $groups (printf "%v:%v:%v:%v" .name $bytes $freshness .source) }}
{{- else }}
{{- $groups = append $groups (printf "%v:%v:%v" .name $bytes .source) }}
{{- end }}
{{- end }}
{{- if not $groups }}
{{- fail "groups must list at least one cache group" }}
{{- end }}
{{- join "," $groups }}
{{- end }}

{{/*
PromQL label matchers that pick this release's series in the alerts:
prometheusRule.selector, or the release's namespace plus, with the
ServiceMonitor, its job (the Prometheus Operator names the job after the
Service, which keeps two releases in one namespace apart).
*/}}
{{- define "geecache.alertSelector" -}}
{{- if .Values.prometheusRule.selector }}
{{- .Values.prometheusRule.selector }}
{{- else if .Values.serviceMonitor.enabled }}
{{- printf "namespace=%q, job=%q" .Release.Namespace (include "geecache.fullname" .) }}
{{- else }}
{{- printf "namespace=%q" .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
The Secret that holds a token (adminToken or peerToken, passed as "token"): the user's existing one,
or the chart's own "<fullname>-tokens" when the token's value is given; empty when neither is set.
*/}}
{{- define "geecache.tokenSecret" -}}
{{- if .token.existingSecret }}
{{- .token.existingSecret }}
{{- else if or .token.value .token.generate }}
{{- printf "%s-tokens" (include "geecache.fullname" .root) }}
{{- end }}
{{- end }}

{{/*
The bytes of the groups' budgets added up, as a whole number: each size is a number of bytes, or a
number with B, KiB, MiB or GiB (the forms values.schema.json admits).
*/}}
{{- define "geecache.budgetBytes" -}}
{{- $units := dict "" 1 "B" 1 "KiB" 1024 "MiB" 1048576 "GiB" 1073741824 }}
{{- $total := 0.0 }}
{{- range .Values.groups }}
{{- $text := toString .bytes }}
{{- if kindIs "float64" .bytes }}{{ $text = toString (int64 .bytes) }}{{ end }}
{{- $number := regexFind "^[0-9.]+" $text }}
{{- $unit := trimPrefix $number $text }}
{{- if not (hasKey $units $unit) }}{{ fail (printf "group %s: %q is not a byte size such as 64MiB" .name $text) }}{{ end }}
{{- $total = addf $total (mulf (float64 $number) (get $units $unit)) }}
{{- end }}
{{- int64 $total }}
{{- end }}

{{/*
The container's resources: .Values.resources, with the memory request and limit derived from the
groups' budgets where it sets none (docs/configuration.md, "Memory"):
  request = memory.baseMiB + budget × memory.budgetFactor, limit = request + memory.headroomMiB.
*/}}
{{- define "geecache.resources" -}}
{{- $resources := deepCopy (.Values.resources | default dict) }}
{{- $requests := $resources.requests | default dict }}
{{- $limits := $resources.limits | default dict }}
{{- $budgetMiB := divf (float64 (include "geecache.budgetBytes" .)) 1048576.0 }}
{{- $request := ceil (addf .Values.memory.baseMiB (mulf $budgetMiB .Values.memory.budgetFactor)) | int64 }}
{{- if not (hasKey $requests "memory") }}{{ $_ := set $requests "memory" (printf "%dMi" $request) }}{{ end }}
{{- if not (hasKey $limits "memory") }}{{ $_ := set $limits "memory" (printf "%dMi" (add $request (int64 .Values.memory.headroomMiB))) }}{{ end }}
{{- $_ := set $resources "requests" $requests }}
{{- $_ := set $resources "limits" $limits }}
{{- toYaml $resources }}
{{- end }}
