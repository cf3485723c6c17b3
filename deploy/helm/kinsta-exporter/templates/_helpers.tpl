{{/* Names and labels, as in the prometheus-community charts. */}}
{{- define "kinsta-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; 63 characters at most (DNS label). */}}
{{- define "kinsta-exporter.fullname" -}}
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

{{- define "kinsta-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kinsta-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kinsta-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kinsta-exporter.labels" -}}
helm.sh/chart: {{ include "kinsta-exporter.chart" . }}
{{ include "kinsta-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/component: exporter
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kinsta-exporter.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/* The Secret holding the API keys: the chart's own or existingSecret.name. */}}
{{- define "kinsta-exporter.secretName" -}}
{{- .Values.existingSecret.name | default (include "kinsta-exporter.fullname" .) }}
{{- end }}

{{/* The default key name in the Secret. */}}
{{- define "kinsta-exporter.defaultKey" -}}
{{- .Values.existingSecret.key | default "api-key" }}
{{- end }}

{{/* Whether the chart makes the Secret. */}}
{{- define "kinsta-exporter.createSecret" -}}
{{- if and (not .Values.demo) (not .Values.existingSecret.name) }}true{{ end }}
{{- end }}

{{/* Whether a configuration file (ConfigMap, --config.file) is used. */}}
{{- define "kinsta-exporter.useConfig" -}}
{{- if and (not .Values.demo) .Values.config.companies }}true{{ end }}
{{- end }}

{{/*
The Secret keys the pod mounts as files under /etc/kinsta/keys, as a JSON list:
each company's secretKey in config mode, else the one default key.
*/}}
{{- define "kinsta-exporter.secretKeys" -}}
{{- $keys := list }}
{{- if include "kinsta-exporter.useConfig" . }}
{{- range .Values.config.companies }}
{{- $keys = append $keys (.secretKey | default (include "kinsta-exporter.defaultKey" $)) }}
{{- end }}
{{- else }}
{{- $keys = list (include "kinsta-exporter.defaultKey" .) }}
{{- end }}
{{- $keys | uniq | sortAlpha | toJson }}
{{- end }}

{{/* The job label of the exporter's series; the rules' default selector matches it. */}}
{{- define "kinsta-exporter.ruleSelector" -}}
{{- .Values.prometheusRule.selector | default (printf "job=%q" .Values.jobName) }}
{{- end }}

{{/* The address of one replica in sharded mode, ${1} being its ordinal. */}}
{{- define "kinsta-exporter.replicaAddress" -}}
{{- printf "%s-${1}.%s.%s.svc:%d" (include "kinsta-exporter.fullname" .) (include "kinsta-exporter.fullname" .) .Release.Namespace (int (include "kinsta-exporter.port" .)) }}
{{- end }}

{{/* The exporter's port: its default --web.listen-address, :10055. */}}
{{- define "kinsta-exporter.port" -}}
10055
{{- end }}

{{/* The --config.file: every company with the mounted file of its API key. */}}
{{- define "kinsta-exporter.configFile" -}}
# kinsta_exporter --config.file, made by the Helm chart from config.companies.
{{- $companies := list }}
{{- range .Values.config.companies }}
{{- $c := dict "id" (toString .id) "api_key_file" (printf "/etc/kinsta/keys/%s" (.secretKey | default (include "kinsta-exporter.defaultKey" $))) }}
{{- if .name }}{{ $_ := set $c "name" (toString .name) }}{{ end }}
{{- $companies = append $companies $c }}
{{- end }}
{{ dict "companies" $companies | toYaml }}
{{- end }}
