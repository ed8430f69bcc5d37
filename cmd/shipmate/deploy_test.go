package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/joho/godotenv"
	"go.yaml.in/yaml/v3"

	"shipmate/bot"
	"shipmate/quiz"
)

// These tests keep the deployment files true to the program: every variable
// a manifest sets is one the program reads (envVars), the tokens come from
// secrets, the values parse with the program's own parsers, the health
// probes hit the paths serveHealth serves, and the image is static and
// non-root. Paths are relative to this package's directory.
const (
	repoRoot   = "../.."
	deployRoot = "../../deploy"
)

// requiredEnv must be provided by every runtime manifest, from a secret.
var requiredEnv = []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}

// deployDoc is one YAML or JSON document under deploy/.
type deployDoc struct {
	file string // relative to deploy/, for messages
	kind string // see deployKind
	m    map[string]any
}

// envSetting is one environment variable a manifest sets.
type envSetting struct {
	name   string
	value  string // plain value; empty for secrets
	secret bool   // from a secret store (Secrets Manager, a Kubernetes Secret)
}

// loadDeployDocs parses every .yaml, .yml and .json file under deploy/
// (YAML files may hold several documents). Any other file but Markdown is an
// error, so a new kind of manifest cannot escape these tests.
func loadDeployDocs(t *testing.T) []deployDoc {
	t.Helper()
	var docs []deployDoc
	err := filepath.WalkDir(deployRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(deployRoot, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var ms []map[string]any
		switch path.Ext(rel) {
		case ".md":
			return nil
		case ".json":
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			ms = append(ms, m)
		case ".yaml", ".yml":
			dec := yaml.NewDecoder(bytes.NewReader(data))
			for {
				var m map[string]any
				err := dec.Decode(&m)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return fmt.Errorf("%s: %w", rel, err)
				}
				if m != nil {
					ms = append(ms, m)
				}
			}
		default:
			return fmt.Errorf("%s: not YAML, JSON or Markdown; teach deploy_test.go to check it", rel)
		}
		if len(ms) == 0 {
			return fmt.Errorf("%s: no document", rel)
		}
		for _, m := range ms {
			docs = append(docs, deployDoc{file: rel, kind: deployKind(m), m: m})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// deployKind says what a document is: "slack", "ecs", "apprunner", or
// "k8s/" and its Kubernetes kind; "" if unknown.
func deployKind(m map[string]any) string {
	switch {
	case m["display_information"] != nil || m["oauth_config"] != nil:
		return "slack"
	case m["containerDefinitions"] != nil:
		return "ecs"
	case m["serviceName"] != nil && m["taskDefinition"] != nil:
		return "ecs-service"
	case m["SourceConfiguration"] != nil:
		return "apprunner"
	case m["apiVersion"] != nil && m["kind"] != nil:
		return "k8s/" + str(m["kind"])
	}
	return ""
}

// at walks maps by key and lists by index; nil when a step is missing.
func at(v any, steps ...any) any {
	for _, s := range steps {
		switch s := s.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[s]
		case int:
			l, _ := v.([]any)
			if s >= len(l) {
				return nil
			}
			v = l[s]
		}
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func strs(v any) []string {
	var out []string
	for _, e := range list(v) {
		out = append(out, str(e))
	}
	return out
}

// envOf returns the environment variables a runtime manifest sets, and
// whether it is a runtime manifest at all.
func envOf(d deployDoc) ([]envSetting, bool) {
	var env []envSetting
	switch d.kind {
	case "ecs":
		for _, c := range list(d.m["containerDefinitions"]) {
			for _, e := range list(at(c, "environment")) {
				env = append(env, envSetting{name: str(at(e, "name")), value: str(at(e, "value"))})
			}
			for _, e := range list(at(c, "secrets")) {
				env = append(env, envSetting{name: str(at(e, "name")), secret: str(at(e, "valueFrom")) != ""})
			}
		}
	case "apprunner":
		img := at(d.m, "SourceConfiguration", "ImageRepository", "ImageConfiguration")
		vars, _ := at(img, "RuntimeEnvironmentVariables").(map[string]any)
		for _, k := range sortedKeys(vars) {
			env = append(env, envSetting{name: k, value: str(vars[k])})
		}
		secrets, _ := at(img, "RuntimeEnvironmentSecrets").(map[string]any)
		for _, k := range sortedKeys(secrets) {
			env = append(env, envSetting{name: k, secret: str(secrets[k]) != ""})
		}
	case "k8s/Deployment", "k8s/StatefulSet", "k8s/DaemonSet", "k8s/Pod", "k8s/Job":
		for _, c := range podContainers(d) {
			for _, e := range list(at(c, "env")) {
				s := envSetting{name: str(at(e, "name")), value: str(at(e, "value"))}
				s.secret = at(e, "valueFrom", "secretKeyRef") != nil
				env = append(env, s)
			}
			if at(c, "envFrom") != nil {
				// Names from envFrom are invisible here; spell them out.
				env = append(env, envSetting{name: "envFrom (list each variable under env instead)"})
			}
		}
	default:
		return nil, false
	}
	return env, true
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func podSpec(d deployDoc) any {
	if d.kind == "k8s/Pod" {
		return d.m["spec"]
	}
	return at(d.m, "spec", "template", "spec")
}

func podContainers(d deployDoc) []any {
	spec := podSpec(d)
	return append(slices.Clone(list(at(spec, "initContainers"))), list(at(spec, "containers"))...)
}

// envGetenv turns a manifest's plain values into a getenv for the
// program's parsers; secrets get well-formed fake values.
func envGetenv(env []envSetting) func(string) string {
	vals := map[string]string{}
	for _, e := range env {
		vals[e.name] = e.value
		if e.secret {
			vals[e.name] = map[string]string{"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"}[e.name]
		}
	}
	return func(k string) string { return vals[k] }
}

func envVarNames() []string {
	var names []string
	for _, v := range envVars {
		names = append(names, v.Name)
	}
	return names
}

func addrPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("HTTP_ADDR %q: %v", addr, err)
	}
	return port
}

func TestDeployManifests(t *testing.T) {
	t.Parallel()
	docs := loadDeployDocs(t)

	// Kinds this repository ships; each must be there and checked.
	wantKinds := []string{"slack", "ecs", "ecs-service", "apprunner", "k8s/Deployment", "k8s/PersistentVolumeClaim", "k8s/Secret", "k8s/ServiceAccount", "k8s/Kustomization",
		"k8s/PodDisruptionBudget", "k8s/Service", "k8s/ServiceMonitor"}
	var kinds []string
	for _, d := range docs {
		kinds = append(kinds, d.kind)
	}
	for _, k := range wantKinds {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s manifest under deploy/ (found %v)", k, kinds)
		}
	}

	checks := map[string]func(t *testing.T, d deployDoc, all []deployDoc){
		"slack":                     checkSlackManifest,
		"ecs":                       checkECS,
		"apprunner":                 checkAppRunner,
		"k8s/Deployment":            checkDeployment,
		"k8s/PersistentVolumeClaim": func(*testing.T, deployDoc, []deployDoc) {},
		"k8s/Secret":                checkSecretExample,
		"k8s/ServiceAccount":        func(*testing.T, deployDoc, []deployDoc) {},
		"k8s/Kustomization":         checkKustomization,
		"ecs-service":               checkECSService,
		"k8s/PodDisruptionBudget":   checkPDB,
		"k8s/Service":               checkService,
		"k8s/ServiceMonitor":        checkServiceMonitor,
	}
	for i, d := range docs {
		t.Run(fmt.Sprintf("%s#%d/%s", d.file, i, d.kind), func(t *testing.T) {
			t.Parallel()
			check, ok := checks[d.kind]
			if !ok {
				t.Fatalf("%s: unknown kind of manifest %q; teach deploy_test.go to check it", d.file, d.kind)
			}
			check(t, d, docs)
			if env, ok := envOf(d); ok {
				checkRuntimeEnv(t, d, env)
			}
		})
	}
}

// checkRuntimeEnv: names known, tokens from secrets, values the program
// accepts, health on a port the manifest exposes.
func checkRuntimeEnv(t *testing.T, d deployDoc, env []envSetting) {
	known := envVarNames()
	set := map[string]envSetting{}
	for _, e := range env {
		if !slices.Contains(known, e.name) {
			t.Errorf("%s sets %s, which is not in envVars (cmd/shipmate/envvars.go)", d.file, e.name)
		}
		if _, dup := set[e.name]; dup {
			t.Errorf("%s sets %s twice", d.file, e.name)
		}
		set[e.name] = e
	}
	for _, name := range requiredEnv {
		switch e, ok := set[name]; {
		case !ok:
			t.Errorf("%s does not provide %s", d.file, name)
		case !e.secret:
			t.Errorf("%s sets %s as a plain value; take it from a secret", d.file, name)
		}
	}
	getenv := envGetenv(env)
	if _, err := bot.ParseConfig(getenv); err != nil {
		t.Errorf("%s: Slack settings: %v", d.file, err)
	}
	if _, err := quiz.ParseConfig(getenv); err != nil {
		t.Errorf("%s: quiz settings: %v", d.file, err)
	}
	if _, err := newLogger(getenv, io.Discard); err != nil {
		t.Errorf("%s: log settings: %v", d.file, err)
	}
	if getenv("HTTP_ADDR") == "" {
		t.Errorf("%s: HTTP_ADDR is not set, so nothing serves /healthz and /readyz", d.file)
	}
}

func checkSlackManifest(t *testing.T, d deployDoc, _ []deployDoc) {
	if at(d.m, "settings", "socket_mode_enabled") != true {
		t.Errorf("settings.socket_mode_enabled = %v, want true", at(d.m, "settings", "socket_mode_enabled"))
	}
	if at(d.m, "settings", "interactivity", "is_enabled") != true {
		t.Errorf("settings.interactivity.is_enabled = %v, want true (quiz buttons)", at(d.m, "settings", "interactivity", "is_enabled"))
	}
	if at(d.m, "features", "app_home", "messages_tab_enabled") != true {
		t.Errorf("features.app_home.messages_tab_enabled = %v, want true (people DM the bot)", at(d.m, "features", "app_home", "messages_tab_enabled"))
	}
	events := strs(at(d.m, "settings", "event_subscriptions", "bot_events"))
	scopes := strs(at(d.m, "oauth_config", "scopes", "bot"))
	for _, tc := range []struct{ event, scope string }{
		{"app_mention", "app_mentions:read"},
		{"message.im", "im:history"},
		{"", "chat:write"}, // replies and the quiz
		{"", "commands"},   // /shipmate
	} {
		if tc.event != "" && !slices.Contains(events, tc.event) {
			t.Errorf("bot_events = %v, want %s", events, tc.event)
		}
		if !slices.Contains(scopes, tc.scope) {
			t.Errorf("bot scopes = %v, want %s", scopes, tc.scope)
		}
	}
	var slash bool
	for _, c := range list(at(d.m, "features", "slash_commands")) {
		if str(at(c, "command")) == "/shipmate" {
			slash = true
			if str(at(c, "description")) == "" {
				t.Errorf("/shipmate has no description")
			}
		}
	}
	if !slash {
		t.Errorf("features.slash_commands has no /shipmate")
	}
}

func checkECS(t *testing.T, d deployDoc, _ []deployDoc) {
	cs := list(d.m["containerDefinitions"])
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	c := cs[0]
	if at(c, "readonlyRootFilesystem") != true {
		t.Errorf("readonlyRootFilesystem = %v, want true", at(c, "readonlyRootFilesystem"))
	}
	env, _ := envOf(d)
	getenv := envGetenv(env)

	port := addrPort(t, getenv("HTTP_ADDR"))
	var ports []string
	for _, pm := range list(at(c, "portMappings")) {
		ports = append(ports, str(at(pm, "containerPort")))
	}
	if !slices.Contains(ports, port) {
		t.Errorf("portMappings %v do not include HTTP_ADDR's port %s", ports, port)
	}

	// On PostgreSQL the state is in the database; else DATA_DIR must be a
	// mount point on a durable (EFS) volume.
	if replicated(env) {
		return
	}
	dataDir := getenv("DATA_DIR")
	var volume string
	for _, mp := range list(at(c, "mountPoints")) {
		if str(at(mp, "containerPath")) == dataDir {
			volume = str(at(mp, "sourceVolume"))
		}
	}
	if volume == "" {
		t.Fatalf("DATA_DIR %q is not a mountPoint", dataDir)
	}
	var durable bool
	for _, v := range list(d.m["volumes"]) {
		if str(at(v, "name")) == volume && at(v, "efsVolumeConfiguration") != nil {
			durable = true
		}
	}
	if !durable {
		t.Errorf("DATA_DIR %q is on volume %q, which is not an EFS volume: the quiz store would be lost", dataDir, volume)
	}
	if at(c, "logConfiguration", "logDriver") != "awslogs" {
		t.Errorf("logDriver = %v, want awslogs", at(c, "logConfiguration", "logDriver"))
	}
}

func checkAppRunner(t *testing.T, d deployDoc, _ []deployDoc) {
	img := at(d.m, "SourceConfiguration", "ImageRepository", "ImageConfiguration")
	env, _ := envOf(d)
	if port := addrPort(t, envGetenv(env)("HTTP_ADDR")); str(at(img, "Port")) != port {
		t.Errorf("ImageConfiguration.Port = %v, want HTTP_ADDR's port %s", at(img, "Port"), port)
	}
	hc := at(d.m, "HealthCheckConfiguration")
	if str(at(hc, "Protocol")) != "HTTP" || !slices.Contains([]string{"/healthz", "/readyz"}, str(at(hc, "Path"))) {
		t.Errorf("HealthCheckConfiguration = %v, want HTTP on /healthz or /readyz", hc)
	}
}

func checkDeployment(t *testing.T, d deployDoc, all []deployDoc) {
	spec := podSpec(d)
	ha := replicated(mustEnv(d))
	switch r, s := str(at(d.m, "spec", "replicas")), str(at(d.m, "spec", "strategy", "type")); {
	case ha:
		// Replicas on PostgreSQL: at least two, rolled one at a time,
		// and a disruption budget that keeps one.
		if n, _ := strconv.Atoi(r); n < 2 {
			t.Errorf("replicas = %s with DATABASE_URL, want 2 or more", r)
		}
		if s != "RollingUpdate" || str(at(d.m, "spec", "strategy", "rollingUpdate", "maxUnavailable")) != "0" {
			t.Errorf("strategy = %v, want RollingUpdate with maxUnavailable 0", at(d.m, "spec", "strategy"))
		}
		if !selects(all, "k8s/PodDisruptionBudget", at(d.m, "spec", "selector", "matchLabels")) {
			t.Errorf("no PodDisruptionBudget selects the Deployment's pods")
		}
	case r != "1":
		t.Errorf("replicas = %s, want 1", r)
	case s != "Recreate":
		t.Errorf("strategy = %q, want Recreate (the SQLite volume has one writer)", s)
	}
	pod := at(spec, "securityContext")
	for i, c := range list(at(spec, "containers")) {
		sc := at(c, "securityContext")
		// A container setting overrides the pod's.
		get := func(k string) any {
			if v := at(sc, k); v != nil {
				return v
			}
			return at(pod, k)
		}
		if get("runAsNonRoot") != true {
			t.Errorf("container %d: runAsNonRoot = %v, want true", i, get("runAsNonRoot"))
		}
		if u := str(get("runAsUser")); u == "" || u == "0" {
			t.Errorf("container %d: runAsUser = %q, want a non-root uid", i, u)
		}
		if at(sc, "readOnlyRootFilesystem") != true {
			t.Errorf("container %d: readOnlyRootFilesystem = %v, want true", i, at(sc, "readOnlyRootFilesystem"))
		}
		if at(sc, "allowPrivilegeEscalation") != false {
			t.Errorf("container %d: allowPrivilegeEscalation = %v, want false", i, at(sc, "allowPrivilegeEscalation"))
		}
		if !slices.Contains(strs(at(sc, "capabilities", "drop")), "ALL") {
			t.Errorf("container %d: capabilities.drop = %v, want ALL", i, at(sc, "capabilities", "drop"))
		}

		getenv := envGetenv(mustEnv(d))
		port := addrPort(t, getenv("HTTP_ADDR"))
		ports := map[string]string{} // name and number → number
		for _, p := range list(at(c, "ports")) {
			n := str(at(p, "containerPort"))
			ports[n] = n
			if name := str(at(p, "name")); name != "" {
				ports[name] = n
			}
		}
		for _, tc := range []struct{ probe, path string }{
			{"livenessProbe", "/healthz"},
			{"readinessProbe", "/readyz"},
		} {
			hg := at(c, tc.probe, "httpGet")
			if hg == nil {
				t.Errorf("container %d: no %s.httpGet", i, tc.probe)
				continue
			}
			if got := str(at(hg, "path")); got != tc.path {
				t.Errorf("container %d: %s path = %q, want %q", i, tc.probe, got, tc.path)
			}
			if got := ports[str(at(hg, "port"))]; got != port {
				t.Errorf("container %d: %s port %v is %q, want HTTP_ADDR's port %s", i, tc.probe, at(hg, "port"), got, port)
			}
		}

		// Secrets it reads exist in a Secret manifest with that key.
		for _, e := range list(at(c, "env")) {
			ref := at(e, "valueFrom", "secretKeyRef")
			if ref == nil {
				continue
			}
			if !hasSecretKey(all, str(at(ref, "name")), str(at(ref, "key"))) {
				t.Errorf("env %s reads key %v of Secret %v, which no manifest under deploy/ shows", str(at(e, "name")), at(ref, "key"), at(ref, "name"))
			}
		}

		// DATA_DIR must be mounted from a PersistentVolumeClaim.
		dataDir := getenv("DATA_DIR")
		var volume string
		for _, vm := range list(at(c, "volumeMounts")) {
			if str(at(vm, "mountPath")) == dataDir {
				volume = str(at(vm, "name"))
			}
		}
		var claim string
		for _, v := range list(at(spec, "volumes")) {
			if str(at(v, "name")) == volume {
				claim = str(at(v, "persistentVolumeClaim", "claimName"))
			}
		}
		if ha {
			if volume == "" {
				t.Errorf("container %d: DATA_DIR %q is not mounted (the root filesystem is read-only)", i, dataDir)
			}
		} else if claim == "" {
			t.Errorf("container %d: DATA_DIR %q is not mounted from a PersistentVolumeClaim", i, dataDir)
		} else if !hasObject(all, "k8s/PersistentVolumeClaim", claim) {
			t.Errorf("PersistentVolumeClaim %q is not defined under deploy/", claim)
		}
	}
	if sa := str(at(spec, "serviceAccountName")); sa != "" && !hasObject(all, "k8s/ServiceAccount", sa) {
		t.Errorf("ServiceAccount %q is not defined under deploy/", sa)
	}
}

// replicated reports whether a manifest runs on PostgreSQL: DATABASE_URL
// from a secret (it holds a password).
func replicated(env []envSetting) bool {
	for _, e := range env {
		if e.name == "DATABASE_URL" {
			return e.secret
		}
	}
	return false
}

// selects reports whether an object of kind selects pods with labels.
func selects(all []deployDoc, kind string, labels any) bool {
	want, _ := labels.(map[string]any)
	for _, d := range all {
		if d.kind != kind {
			continue
		}
		sel, _ := at(d.m, "spec", "selector", "matchLabels").(map[string]any)
		if sel == nil {
			sel, _ = at(d.m, "spec", "selector").(map[string]any)
		}
		ok := len(sel) > 0
		for k, v := range sel {
			if str(want[k]) != str(v) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// checkECSService: the replicated service runs two or more tasks of a
// task definition on PostgreSQL, rolled without dropping below one.
func checkECSService(t *testing.T, d deployDoc, all []deployDoc) {
	family := str(d.m["taskDefinition"])
	var td *deployDoc
	for i := range all {
		if all[i].kind == "ecs" && str(all[i].m["family"]) == family {
			td = &all[i]
		}
	}
	if td == nil {
		t.Fatalf("taskDefinition %q is not a task definition under deploy/", family)
	}
	env, _ := envOf(*td)
	n, _ := strconv.Atoi(str(d.m["desiredCount"]))
	switch {
	case replicated(env) && n < 2:
		t.Errorf("desiredCount = %d for a task definition on PostgreSQL, want 2 or more", n)
	case !replicated(env) && n != 1:
		t.Errorf("desiredCount = %d on SQLite, want 1", n)
	}
	if min, _ := strconv.Atoi(str(at(d.m, "deploymentConfiguration", "minimumHealthyPercent"))); n > 1 && min*n < 100 {
		t.Errorf("minimumHealthyPercent = %d lets a deployment stop every task", min)
	}
}

// checkPDB keeps at least one pod.
func checkPDB(t *testing.T, d deployDoc, _ []deployDoc) {
	if n, _ := strconv.Atoi(str(at(d.m, "spec", "minAvailable"))); n < 1 {
		t.Errorf("minAvailable = %v, want 1 or more", at(d.m, "spec", "minAvailable"))
	}
}

// checkService: it selects Shipmate's pods, on the health port.
func checkService(t *testing.T, d deployDoc, all []deployDoc) {
	if !selects(all, "k8s/Deployment", at(d.m, "spec", "selector")) && !podsLabelled(all, at(d.m, "spec", "selector")) {
		t.Errorf("the Service selects no Deployment's pods")
	}
}

func podsLabelled(all []deployDoc, sel any) bool {
	want, _ := sel.(map[string]any)
	for _, d := range all {
		if d.kind != "k8s/Deployment" {
			continue
		}
		labels, _ := at(d.m, "spec", "template", "metadata", "labels").(map[string]any)
		ok := len(want) > 0
		for k, v := range want {
			if str(labels[k]) != str(v) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// checkServiceMonitor scrapes /metrics through a port a Service names.
func checkServiceMonitor(t *testing.T, d deployDoc, all []deployDoc) {
	eps := list(at(d.m, "spec", "endpoints"))
	if len(eps) == 0 {
		t.Fatalf("no endpoints")
	}
	for _, ep := range eps {
		if str(at(ep, "path")) != "/metrics" {
			t.Errorf("endpoint path = %v, want /metrics", at(ep, "path"))
		}
		found := false
		for _, s := range all {
			if s.kind != "k8s/Service" {
				continue
			}
			for _, p := range list(at(s.m, "spec", "ports")) {
				if str(at(p, "name")) == str(at(ep, "port")) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("endpoint port %v is no Service's port", at(ep, "port"))
		}
	}
}

func mustEnv(d deployDoc) []envSetting { env, _ := envOf(d); return env }

func hasObject(all []deployDoc, kind, name string) bool {
	for _, d := range all {
		if d.kind == kind && str(at(d.m, "metadata", "name")) == name {
			return true
		}
	}
	return false
}

func hasSecretKey(all []deployDoc, name, key string) bool {
	for _, d := range all {
		if d.kind == "k8s/Secret" && str(at(d.m, "metadata", "name")) == name &&
			(at(d.m, "stringData", key) != nil || at(d.m, "data", key) != nil) {
			return true
		}
	}
	return false
}

// checkSecretExample: an example, so its values must be placeholders.
func checkSecretExample(t *testing.T, d deployDoc, _ []deployDoc) {
	for _, field := range []string{"stringData", "data"} {
		vals, _ := d.m[field].(map[string]any)
		for _, k := range sortedKeys(vals) {
			if !slices.Contains(envVarNames(), k) {
				t.Errorf("%s.%s is not in envVars", field, k)
			}
			if v := str(vals[k]); !strings.Contains(v, "REPLACE") {
				t.Errorf("%s.%s = %q: want a placeholder containing REPLACE, never a real token", field, k, v)
			}
		}
	}
}

// checkKustomization: its resources exist, and it never applies the
// example Secret over the real one.
func checkKustomization(t *testing.T, d deployDoc, _ []deployDoc) {
	dir := path.Dir(d.file)
	for _, r := range strs(d.m["resources"]) {
		if _, err := os.Stat(filepath.Join(deployRoot, dir, r)); err != nil {
			t.Errorf("resource %s: %v", r, err)
		}
		if strings.Contains(r, "example") {
			t.Errorf("resource %s: an example must not be applied", r)
		}
	}
}

// envExampleLine matches KEY=value in .env.example, commented out or not.
var envExampleLine = regexp.MustCompile(`^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$`)

func TestDeployEnvExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		commented bool
		value     string // as godotenv reads it once uncommented
	}
	lines := map[string]line{}
	for _, l := range strings.Split(string(data), "\n") {
		sm := envExampleLine.FindStringSubmatch(strings.TrimSpace(l))
		if sm == nil {
			continue
		}
		name := sm[2]
		if _, dup := lines[name]; dup {
			t.Errorf(".env.example: %s appears twice", name)
		}
		parsed, err := godotenv.Unmarshal(name + "=" + sm[3])
		if err != nil {
			t.Errorf(".env.example: %s: %v", name, err)
		}
		lines[name] = line{commented: sm[1] != "", value: parsed[name]}
	}

	for _, v := range envVars {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			l, ok := lines[v.Name]
			if !ok {
				t.Fatalf(".env.example has no %s= line", v.Name)
			}
			if l.commented && l.value != v.Default {
				t.Errorf(".env.example: commented-out %s=%q, want the default %q", v.Name, l.value, v.Default)
			}
			if slices.Contains(requiredEnv, v.Name) && l.value != "" {
				t.Errorf(".env.example: %s=%q, want it empty: the example never holds a token", v.Name, l.value)
			}
		})
	}
	for name := range lines {
		if !slices.Contains(envVarNames(), name) {
			t.Errorf(".env.example sets %s, which is not in envVars", name)
		}
	}
}

func TestDeployEnvVarsTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, v := range envVars {
		if !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(v.Name) {
			t.Errorf("envVars: bad name %q", v.Name)
		}
		if seen[v.Name] {
			t.Errorf("envVars: %s twice", v.Name)
		}
		seen[v.Name] = true
		if strings.TrimSpace(v.Help) == "" {
			t.Errorf("envVars: %s has no help", v.Name)
		}
	}

	// Defaults documented = defaults in the code.
	dur := func(d time.Duration) func(string) error {
		return func(s string) error {
			got, err := time.ParseDuration(s)
			if err != nil || got != d {
				return fmt.Errorf("%q is not %v", s, d)
			}
			return nil
		}
	}
	equal := func(want string) func(string) error {
		return func(s string) error {
			if s != want {
				return fmt.Errorf("%q, want %q", s, want)
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name  string
		check func(string) error
	}{
		{"SLACK_API_URL", equal(bot.DefaultAPIURL)},
		{"QUIZ_SCHEDULE", equal(quiz.DefaultSchedule)},
		{"QUIZ_GRACE", dur(quiz.DefaultGrace)},
		{"QUIZ_REVEAL_AFTER", dur(quiz.DefaultRevealAfter)},
		{"SHUTDOWN_GRACE", dur(bot.DefaultShutdownGrace)},
		{"SLACK_CALL_TIMEOUT", dur(bot.DefaultCallTimeout)},
		{"SLACK_DOWN_EXIT_AFTER", dur(bot.DefaultDownExitAfter)},
		{"LOG_FORMAT", equal("json")},
		{"LOG_LEVEL", equal("info")},
	} {
		i := slices.IndexFunc(envVars, func(v envVar) bool { return v.Name == tc.name })
		if i < 0 {
			t.Errorf("envVars has no %s", tc.name)
			continue
		}
		if err := tc.check(envVars[i].Default); err != nil {
			t.Errorf("envVars %s default: %v", tc.name, err)
		}
	}
}

// TestDeployEnvVarsRead finds every getenv("NAME") in the module's non-test
// code, so a variable cannot be read without being documented (or
// documented after it is no longer read).
func TestDeployEnvVarsRead(t *testing.T) {
	t.Parallel()
	read := map[string]string{} // name → where
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != repoRoot && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			}
			if !slices.Contains([]string{"getenv", "Getenv", "LookupEnv"}, fn) {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil {
					read[name] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(read) == 0 {
		t.Fatal("found no getenv calls: the scan is broken")
	}
	for _, name := range sortedKeys(toAny(read)) {
		if !slices.Contains(envVarNames(), name) {
			t.Errorf("%s: reads %s, which is not in envVars (cmd/shipmate/envvars.go)", read[name], name)
		}
	}
	for _, v := range envVars {
		if _, ok := read[v.Name]; !ok {
			t.Errorf("envVars lists %s, but no code reads it", v.Name)
		}
	}
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// dockerStage is one FROM … stage of a Dockerfile: its base image and its
// instructions (continuations joined, comments dropped).
type dockerStage struct {
	from  string
	instr [][2]string // keyword (upper case), arguments
}

func parseDockerfile(t *testing.T, p string) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cont string
	for _, l := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if rest, ok := strings.CutSuffix(trimmed, `\`); ok {
			cont += rest + " "
			continue
		}
		line := strings.TrimSpace(cont + trimmed)
		cont = ""
		if line == "" {
			continue
		}
		kw, args, _ := strings.Cut(line, " ")
		kw, args = strings.ToUpper(kw), strings.TrimSpace(args)
		if kw == "FROM" {
			var from string
			for _, f := range strings.Fields(args) {
				if !strings.HasPrefix(f, "--") { // --platform=…
					from = f
					break
				}
			}
			stages = append(stages, dockerStage{from: from})
			continue
		}
		if len(stages) == 0 {
			continue // ARG before the first FROM
		}
		s := &stages[len(stages)-1]
		s.instr = append(s.instr, [2]string{kw, args})
	}
	return stages
}

func (s dockerStage) all(kw string) []string {
	var out []string
	for _, in := range s.instr {
		if in[0] == kw {
			out = append(out, in[1])
		}
	}
	return out
}

// env returns the stage's ENV settings (KEY=value form).
func (s dockerStage) env() map[string]string {
	env := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}

func TestDeployDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a final one", len(stages))
	}
	final := stages[len(stages)-1]
	build := stages[:len(stages)-1]
	var buildRuns []string
	buildEnv := map[string]string{}
	for _, s := range build {
		buildRuns = append(buildRuns, s.all("RUN")...)
		for k, v := range s.env() {
			buildEnv[k] = v
		}
	}
	goBuild := ""
	for _, r := range buildRuns {
		if strings.Contains(r, "go build") {
			goBuild = r
		}
	}
	last := func(kw string) string {
		l := final.all(kw)
		if len(l) == 0 {
			return ""
		}
		return l[len(l)-1]
	}

	for _, tc := range []struct {
		name string
		ok   bool
		got  string
	}{
		{"final stage is distroless/static or scratch",
			final.from == "scratch" || strings.HasPrefix(final.from, "gcr.io/distroless/static"), final.from},
		{"final stage runs as nonroot",
			slices.Contains([]string{"nonroot", "nonroot:nonroot", "65532", "65532:65532"}, last("USER")), last("USER")},
		{"build uses CGO_ENABLED=0",
			strings.Contains(goBuild, "CGO_ENABLED=0") || buildEnv["CGO_ENABLED"] == "0", goBuild},
		{"build uses -trimpath", strings.Contains(goBuild, "-trimpath"), goBuild},
		{"build strips (-ldflags=\"-s -w …\")", strings.Contains(goBuild, `-ldflags="-s -w"`) || strings.Contains(goBuild, `-ldflags="-s -w `), goBuild},
		{"build links the commit in (-X shipmate/internal/buildinfo.commit=$SHIPMATE_COMMIT)",
			strings.Contains(goBuild, "-X shipmate/internal/buildinfo.commit=$SHIPMATE_COMMIT"), goBuild},
		{"build stage downloads modules before building",
			slices.IndexFunc(buildRuns, func(r string) bool { return strings.Contains(r, "go mod download") }) >= 0, strings.Join(buildRuns, " | ")},
		{"entrypoint is the binary", last("ENTRYPOINT") == `["/shipmate"]`, last("ENTRYPOINT")},
		{"default command is serve", last("CMD") == `["serve"]`, last("CMD")},
	} {
		if !tc.ok {
			t.Errorf("Dockerfile: want %s; got %q", tc.name, tc.got)
		}
	}

	env := final.env()
	for _, k := range sortedKeys(toAny(env)) {
		if !slices.Contains(envVarNames(), k) {
			t.Errorf("Dockerfile sets ENV %s, which is not in envVars", k)
		}
	}
	if port := addrPort(t, env["HTTP_ADDR"]); !slices.Contains(strings.Fields(last("EXPOSE")), port) && !slices.Contains(strings.Fields(last("EXPOSE")), port+"/tcp") {
		t.Errorf("Dockerfile: EXPOSE %q does not include HTTP_ADDR's port %s", last("EXPOSE"), port)
	}
	if dd := env["DATA_DIR"]; dd == "" || !strings.Contains(" "+last("VOLUME")+" ", " "+dd+" ") {
		t.Errorf("Dockerfile: DATA_DIR %q is not a VOLUME (%q)", dd, last("VOLUME"))
	}
}
