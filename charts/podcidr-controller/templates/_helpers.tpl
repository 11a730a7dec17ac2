{{/*
The app name: nameOverride, else the chart name, cut to 63 characters (the limit of a label value). It is the
selector's app.kubernetes.io/name, as the Go chart renders it for the same nameOverride (see selectorLabels).
*/}}
{{- define "podcidr-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: fullnameOverride; else the release name when it contains the base name (the
chart name, or nameOverride); else release-base.
*/}}
{{- define "podcidr-controller.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $base := default .Chart.Name .Values.nameOverride }}
{{- if contains $base .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $base | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object: the selector labels, the chart's, and commonLabels. */}}
{{- define "podcidr-controller.labels" -}}
{{ include "podcidr-controller.labelsWith" (dict "root" . "extra" dict) }}
{{- end }}

{{/*
The labels of every object plus .extra (a dict) for one object; .extra wins over commonLabels on the same key.
Called with (dict "root" $ "extra" (dict ...)).
*/}}
{{- define "podcidr-controller.labelsWith" -}}
{{- $root := .root -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "podcidr-controller.selectorLabels" $root }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
{{- with merge (dict) .extra ($root.Values.commonLabels | default dict) }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of the pods: the selector labels, then podLabels and commonLabels (podLabels wins on the same key). */}}
{{- define "podcidr-controller.podLabels" -}}
{{ include "podcidr-controller.selectorLabels" . }}
{{- with merge (dict) (.Values.podLabels | default dict) (.Values.commonLabels | default dict) }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: exactly the Go podcidr-controller chart's (v1.x) Deployment selector for the same values, since a
Deployment's selector cannot change, so that `helm upgrade` over a release of the Go chart succeeds and rolls its
pods: app.kubernetes.io/name is nameOverride or the chart name, app.kubernetes.io/instance the release name, and name
always "podcidr-controller". commonLabels and podLabels never change them.
*/}}
{{- define "podcidr-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "podcidr-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
name: podcidr-controller
{{- end }}

{{- define "podcidr-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "podcidr-controller.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image: repository@digest when image.digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "podcidr-controller.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
host:port for a bind-address flag: the pod IP from the downward API (bracketed, so that an IPv6 pod IP parses too),
or the literal address of .Values.bindAddress (an IPv6 literal in brackets).
*/}}
{{- define "podcidr-controller.bindAddress" -}}
{{- $address := .root.Values.bindAddress | toString }}
{{- if eq $address "podIP" }}
{{- printf "[$(POD_IP)]:%v" .port }}
{{- else if contains ":" $address }}
{{- printf "[%s]:%v" $address .port }}
{{- else }}
{{- printf "%s:%v" $address .port }}
{{- end }}
{{- end }}

{{/*
"true" when the PodDisruptionBudget cannot block a node drain: maxUnavailable is set (at least 1 or 1%), or more
replicas run than minAvailable asks for (a percentage counts as Kubernetes counts it, rounded up).
*/}}
{{- define "podcidr-controller.pdbAllowsDrain" -}}
{{- $pdb := .Values.podDisruptionBudget }}
{{- $replicas := int .Values.replicaCount }}
{{- if not (kindIs "invalid" $pdb.maxUnavailable) }}
{{- "true" }}
{{- else }}
{{- $min := 0 }}
{{- if kindIs "string" $pdb.minAvailable }}
{{- $min = int (ceil (divf (mulf (atoi (trimSuffix "%" $pdb.minAvailable)) $replicas) 100)) }}
{{- else }}
{{- $min = int $pdb.minAvailable }}
{{- end }}
{{- if and (gt $replicas 1) (lt $min $replicas) }}
{{- "true" }}
{{- end }}
{{- end }}
{{- end }}

{{/* imagePullSecrets and global.imagePullSecrets (as a parent chart passes them), each name once. */}}
{{- define "podcidr-controller.imagePullSecrets" -}}
{{- $names := list }}
{{- $global := (.Values.global | default dict).imagePullSecrets | default list }}
{{- range concat $global (.Values.imagePullSecrets | default list) }}
{{- $name := "" }}
{{- if kindIs "string" . }}
{{- $name = . }}
{{- else }}
{{- $name = .name }}
{{- end }}
{{- if not (has $name $names) }}
{{- $names = append $names $name }}
{{- end }}
{{- end }}
{{- range $names }}
- name: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Name of the ConfigMap that holds the pools file. */}}
{{- define "podcidr-controller.poolsConfigMap" -}}
{{- printf "%s-pools" (include "podcidr-controller.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{/* The pools file: .Values.pools under "groups:", as --pools-file reads it. */}}
{{- define "podcidr-controller.poolsFile" -}}
groups:
{{- toYaml .Values.pools | nindent 2 }}
{{- end }}

{{/*
removeTaints as the controller's --remove-taints takes it: a comma list, each item trimmed, empty ones left out.
The value is a list, or a string (one rule, or a comma list) as the Go chart took it: --set removeTaints=<key>.
*/}}
{{- define "podcidr-controller.removeTaints" -}}
{{- $items := list }}
{{- $value := .Values.removeTaints | default list }}
{{- if kindIs "string" $value }}
{{- $value = splitList "," $value }}
{{- end }}
{{- range $value }}
{{- $item := trim (toString .) }}
{{- if $item }}
{{- $items = append $items $item }}
{{- end }}
{{- end }}
{{- join "," $items }}
{{- end }}

{{/*
The pods' tolerations, so that the controller can start on the nodes that wait for it (see values.yaml,
tolerations): control-plane nodes; with hostNetwork, nodes that are not ready or have no pod network yet (their CNI
waits for a pod CIDR); nodes that the cloud provider has not initialized; each taint the controller is asked to
remove (its key with operator Exists, and its effect when the rule names one). NoExecute taints are left to
Kubernetes' defaults (evicted after 300 s on a not-ready or unreachable node). Then .Values.tolerations.
*/}}
{{- define "podcidr-controller.tolerations" -}}
{{- $tolerations := list (dict "key" "node-role.kubernetes.io/control-plane" "operator" "Exists" "effect" "NoSchedule") }}
{{- if .Values.hostNetwork }}
{{- $tolerations = append $tolerations (dict "key" "node.kubernetes.io/not-ready" "operator" "Exists" "effect" "NoSchedule") }}
{{- $tolerations = append $tolerations (dict "key" "node.kubernetes.io/network-unavailable" "operator" "Exists" "effect" "NoSchedule") }}
{{- end }}
{{- $tolerations = append $tolerations (dict "key" "node.cloudprovider.kubernetes.io/uninitialized" "operator" "Exists" "effect" "NoSchedule") }}
{{- range splitList "," (include "podcidr-controller.removeTaints" .) }}
{{- if . }}
{{- $keyValue := . }}
{{- $effect := "" }}
{{- if contains ":" . }}
{{- $parts := splitList ":" . }}
{{- $effect = last $parts }}
{{- $keyValue = join ":" (initial $parts) }}
{{- end }}
{{- $toleration := dict "key" (first (splitList "=" $keyValue)) "operator" "Exists" }}
{{- if $effect }}
{{- $_ := set $toleration "effect" $effect }}
{{- end }}
{{- if not (has $toleration $tolerations) }}
{{- $tolerations = append $tolerations $toleration }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml (concat $tolerations (.Values.tolerations | default list)) }}
{{- end }}
