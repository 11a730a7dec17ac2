{{/* Chart name, cut to 63 characters (the limit of a label value and of many names). */}}
{{- define "podcidr-controller.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, or release-chart when the release name does not contain the chart name. */}}
{{- define "podcidr-controller.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "podcidr-controller.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "podcidr-controller.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: exactly the Go podcidr-controller chart's Deployment selector (a Deployment's selector cannot change),
so that `helm upgrade` over a release of the Go chart succeeds and rolls its pods.
*/}}
{{- define "podcidr-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "podcidr-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
name: {{ include "podcidr-controller.name" . }}
{{- end }}

{{- define "podcidr-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "podcidr-controller.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
