{{- define "go.name" -}}{{ .Chart.Name }}{{- end }}
{{- define "go.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name }}{{ end }}
{{- end }}
{{- define "go.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/name: {{ include "go.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "go.selectorLabels" -}}
app.kubernetes.io/name: {{ include "go.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
name: podcidr-controller
{{- end }}
