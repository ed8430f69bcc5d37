package index_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"shipmate/index"
)

// TestRequirements checks the requirement model end to end, one mechanism
// per case: hard constraints, the service being left, a choice among named
// services, a doubt, clause-scoped negation and the domain gate.
func TestRequirements(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	tests := []struct {
		name     string
		q        string
		want     []string // all in the top answer's services; nil: declined
		not      []string // none of these in the top answer's services
		verdict  string   // service of a "no" verdict
		yes      bool     // the verdict is yes
		within   []string // the top answer's services all among these
		notFirst string   // the top answer is not this scenario or note
	}{
		{name: "hard constraint excludes Fargate", q: "does fargate support gpus?", want: []string{"ec2"}, not: []string{"fargate"}, verdict: "fargate"},
		{name: "privileged containers", q: "docker-in-docker builds fail on our fargate tasks", want: []string{"ec2"}, verdict: "fargate"},
		{name: "leaving Lambda for long work", q: "lambda keeps cutting off our export job after 15 minutes, what instead?", want: []string{"fargate"}, not: []string{"lambda"}},
		{name: "worker App Runner cannot run", q: "app runner is fine for the api but we also need a queue worker", want: []string{"ecs"}, not: []string{"app-runner"}},
		{name: "yes from the capabilities", q: "can eks run windows containers?", verdict: "eks", yes: true, want: []string{}},
		{name: "choice among named services", q: "App Runner, Elastic Beanstalk or ECS for a small container api?", within: []string{"app-runner", "ecs", "fargate", "ecr"}, want: []string{}},
		{name: "doubt weighs the rival", q: "do we actually need kubernetes?", want: []string{"ecs"}},
		{name: "negation ends with its clause", q: "no service mesh - kubernetes or ECS on fargate?", want: []string{"ecs"}},
		{name: "no kubernetes experts", q: "we have no kubernetes experts, where should our containers run?", not: []string{"eks"}, want: []string{}},
		{name: "kubernetes and GPUs combine", q: "need a couple of gpu machines in our k8s setup for training", want: []string{"eks", "ec2"}},
		{name: "kubernetes and spot combine", q: "spot capacity in our kubernetes cluster to cut the bill", want: []string{"eks", "ec2"}},
		{name: "ML words are not a GPU need", q: "an ML model behind an API, bursty traffic, triggered by events", want: []string{"lambda"}},
		{name: "a duration above Lambda's limit", q: "our report job takes about 40 minutes, can we just use lambda?", want: []string{"fargate"}, not: []string{"lambda"}, verdict: "lambda"},
		{name: "how often is not how long", q: "a small python script that runs every 20 minutes on aws, what service?", want: []string{"lambda"}},
		{name: "a size above Fargate's largest task", q: "batch simulations that need 64 vCPUs and 512GB RAM per job", want: []string{"ec2"}},
		{name: "a package above the zip limit", q: "our lambda deployment package is 400MB unzipped", want: []string{"lambda"}},
		{name: "a limit, not a wish", q: "App Runner doesn't let us run a background queue consumer, what now", want: []string{"ecs"}, not: []string{"app-runner"}},
		{name: "other cloud's counterpart", q: "is there anything on aws as clean as google cloud run?", want: []string{}},
		{name: "other cloud for its own sake", q: "GKE Autopilot pricing per pod?"},
		{name: "other cloud's Kubernetes how-to", q: "how do I upgrade an AKS node pool"},
		{name: "generic troubleshooting", q: "my pod is stuck in CrashLoopBackOff, how do I debug it"},
		{name: "generic docker error", q: "docker run says port is already allocated"},
		{name: "a compose setting", q: "how do I set CPU limits in docker compose?"},
		{name: "the JVM's heap in a container", q: "my java heap doesn't respect the docker memory limit"},
		{name: "an error type's name", q: "deploy fails with ServerlessError: invalid definition on a two-step task machine"},
		{name: "a size past an aside", q: "our lambda packages (torch, scipy, pandas) are more than 500mb", want: []string{"lambda"}, verdict: "lambda", yes: true},
		{name: "a described feature answers a move", q: "is app runner in maintenance mode now? no real updates, we like it but should we stay put or move, and to what?", want: []string{"ecs"}, not: []string{"app-runner"}},
		{name: "where Helm charts are kept", q: "where do I store Helm charts?", want: []string{"ecr"}, not: []string{"eks"}},
		{name: "a data center left for AWS", q: "A company runs containerized apps in its own data center and wants to move them to AWS with the least operational overhead. Which service?", want: []string{"fargate"}},
		{name: "a service that feels abandoned is left", q: "app runner feels abandoned, should we move? where to?", want: []string{"ecs"}, not: []string{"app-runner"}},
		{name: "a cue word is not a typo", q: "we've outgrown elastic beanstalk single container docker, don't want kubernetes, what's the step up?", want: []string{"ecs"}},
		{name: "EC2 without containers", q: "lost the ssh key pair for my ec2 instance"},
		{name: "Lambda without containers", q: "how to reduce lambda cold starts for a python function"},
		{name: "Kubernetes in general", q: "how do I mount a ConfigMap as a file in a pod"},
		{name: "a laptop", q: "docker build is really slow on my M2 macbook"},
		{name: "another AWS product", q: "DynamoDB on-demand or provisioned capacity for spiky traffic?"},
		{name: "chatter", q: "ok thanks, that helps a lot"},
		{name: "leaving AWS", q: "leaving aws for hetzner, our 12 docker containers and a postgres, what do we run them on over there"},
		{name: "leaving an AWS service is not leaving AWS", q: "moving off aws ec2 boxes to fargate, what changes in our task definitions", want: []string{"ecs"}},
		{name: "another cloud's exam with a word every cloud uses", q: "AZ-305 practice: which Azure service runs a container group in one availability zone"},
		{name: "another cloud's product to AWS", q: "moving our kubernetes clusters from AKS to AWS, what do we land on", want: []string{"eks"}},
		{name: "a service named only to compare", q: "why can't lambda load config from parameter store the way ECS task definitions can"},
		{name: "a symptom on the service in use", q: "ecs task on fargate, container log says listening on 3000 but the task public ip times out"},
		{name: "a symptom the knowledge base covers", q: "ecs tasks in private subnets time out pulling images from ECR, we have no NAT gateway", want: []string{"ecr"}},
		{name: "API Gateway holds the websockets", q: "API Gateway websockets + lambda: how do I send a message to one connection from another function"},
		{name: "Lambda functions in use", q: "our lambda triggered by sns gets the same message three times, how do we make it process once"},
		{name: "a service reported failing is left", q: "windows images from servercore 2025 and fargate rejects them, what now", want: []string{"ecs"}, not: []string{"fargate"}},
		{name: "a limit hit in seconds", q: "our lambda dies with Task timed out after 900.00 seconds on big files", want: []string{"fargate"}, not: []string{"lambda"}, verdict: "lambda"},
		{name: "a complaint asks for what removes it", q: "our services run on a few EC2 boxes and patching them is a chore. where should the containers go?", want: []string{"fargate"}},
		{name: "a runner is not App Runner", q: "our jenkins runner on ecs fargate has no docker daemon for image builds", want: []string{"ec2"}, not: []string{"app-runner", "fargate"}},
		{name: "where the user is heading leads", q: "we built everything on EKS with karpenter but are now thinking ECS on fargate instead, what carries over", want: []string{"ecs"}, not: []string{"eks"}},
		{name: "a service named before unwanted servers", q: "we don't want to babysit the kubernetes control plane servers", want: []string{"eks"}},
		{name: "a replacement for a thing described before the service", q: "App Mesh handles retries between our ECS services today. what is the replacement?", want: []string{"ecs"}, not: []string{"fargate"}},
		{name: "the service picked instead replaces the one named before", q: "a consultant pushes kubernetes on us because everyone runs it. what work goes away if we pick ECS instead?", want: []string{"ecs"}, not: []string{"eks"}},
		{name: "a negation stops at a condition", q: "our CTO wants kubernetes since everyone uses it. what do we stop worrying about if we switch to ECS instead?", want: []string{"ecs"}, not: []string{"eks"}},
		{name: "'like' as a filler is no counterpart asked for", q: "our cloud run bill jumped like 40% last month, how do we see which service is the expensive one?"},
		{name: "'like' comparing how the user works is no counterpart asked for", q: "we deploy to cloud run from github actions just like we did for app engine. how do we add a staging environment"},
		{name: "'like' next to another cloud's product asks for its counterpart", q: "looking for something like google's cloud run", want: []string{"fargate"}},
		{name: "negation reaches past small words", q: "I don't have the time to look after swarm or kubernetes, need something for 3 containers", not: []string{"eks"}, want: []string{}},
		{name: "container words alone, nothing AWS", q: "helm rollback says release has no deployed releases"},
		{name: "a tool and another product", q: "how to cache docker layers in github actions"},
		{name: "another platform for its own sake", q: "the sagemaker inference container image is too big for a serverless endpoint"},
		{name: "a plain Lambda question", q: "my lambda (zip, no containers) hits the account concurrency limit"},
		{name: "which alone is no request for a service", q: "docker volumes vs bind mounts, which is faster on linux"},
		{name: "what fails the user is ruled out", q: "fargate can't handle our 8 hour render batch with 90GB of memory, what's next", want: []string{"ec2"}, not: []string{"fargate"}},
		{name: "a doubt about something else", q: "do i really need an ALB in front of an ECS service that only reads from a queue", want: []string{"ecs"}},
		{name: "products outside the domain weighed", q: "step functions or eventbridge scheduler for a nightly lambda"},
		{name: "a managed product of another kind", q: "Which AWS service provides a fully managed message queue for decoupling our applications?"},
		{name: "a Lambda setting with a phrase the knowledge base uses", q: "max total size of environment variables on a lambda function?"},
		{name: "a later wish outweighs an earlier mention", q: "all the hybrid platforms out there are kubernetes. we don't want kubernetes, just containers on our own servers run from AWS", want: []string{"ecs"}, not: []string{"eks"}},
		{name: "replacing a task is not replacing the service", q: "one fargate task with an EBS volume for sqlite, will the volume survive task replacement?", want: []string{"ecs", "fargate"}, verdict: "fargate", yes: true},
		{name: "hitting a limit wants past it", q: "our lambda keeps hitting the 15 minute timeout on long exports, what else is serverless", want: []string{"fargate"}, not: []string{"lambda"}, verdict: "lambda"},
		{name: "Lambda and a queue, no container in it", q: "lambda consuming an SQS queue, how should the visibility timeout relate to the function timeout"},
		{name: "a failed image pull", q: "CannotPullContainerError: unexpected status code 403 Forbidden on our fargate task", want: []string{"ecr"}},
		{name: "leaving a product for a service", q: "we're leaving heroku for ECS, what do the dynos become?", want: []string{"ecs"}},
		{name: "tasks placed apart, not refusing instances", q: "ECS on EC2: never two tasks of a service on the same host, how?", want: []string{"ecs"}, not: []string{"fargate"}},
		{name: "options on what the user runs", q: "our EKS fargate pods need their logs in splunk, what are the options?", want: []string{"eks", "fargate"}},
		{name: "a story, not a question", q: "took our startup off heroku last quarter, went smoother than expected"},
		{name: "a product's schedule syntax", q: "eventbridge scheduler cron expression for the first monday of the month"},
		{name: "pictures, not container images", q: "how much memory does a node lambda need to resize images"},
		{name: "a small team weighing the orchestrators", q: "tiny team, ecs or eks?", want: []string{"ecs"}},
		{name: "two actions, no negation", q: "iam policy so people can start and stop only their own ec2 instances"},
		{name: "an analogy borrows the capability", q: "run a log agent on every ecs instance, like a daemonset does", not: []string{"eks"}, want: []string{"ecs"}},
		{name: "a container run once", q: "where do we run database migrations as a one-off fargate task", want: []string{"ecs", "fargate"}},
		{name: "a newcomer cannot start on a closed service", q: "greenfield project, we'd like something like app runner", want: []string{"ecs"}, not: []string{"app-runner"}},
		{name: "a reaction, not a question", q: "thanks, ecs on fargate worked great for our api"},
		{name: "a question with a laugh in it", q: "lol what even is the difference between fargate and ecs", want: []string{"fargate"}},
		{name: "a feature described by what it does", q: "lambda on ec2 instances we choose, steady load, what is it called", want: []string{"lambda"}},
		{name: "a full disk on a build server", q: "no space left on device when docker pulls images on our jenkins box"},
		{name: "a full disk on Fargate", q: "fargate task dies with no space left on device while unzipping a dump", want: []string{"fargate"}},
		{name: "a CI platform's own question", q: "docker layer caching in gitlab ci takes forever, is there a better cache backend"},
		{name: "leaving a service is not kept by what it does", q: "our lambda handles webhooks but now some take 5 minutes and the caller times out at 30s, what instead of lambda?", not: []string{"lambda"}, want: []string{}},
		{name: "another product's trigger troubleshooting", q: "our eventbridge rule for s3 uploads never fires"},
		{name: "an IAM report", q: "how can we list IAM roles nobody has used in 90 days"},
		{name: "what the user does not run is no limitation", q: "our devs pick between a helm chart on eks and a fargate task for the wiki; we don't run kubernetes yet. which?", want: []string{"fargate"}},
		{name: "a GPU instance's own troubles", q: "cloned my stable diffusion gpu box into a new AMI and now the webui hangs at startup"},
		{name: "a zero that is a number negates nothing", q: "our ingest pipeline tasks on fargate idle all night; can the ecs service go down to zero and come back when files land?", want: []string{"ecs", "fargate"}},
		{name: "what is missing where is not negated", q: "there's no daemonset in ecs, so how do we run a log agent on every host?", want: []string{"ecs"}, not: []string{"eks"}},
		{name: "a lack of skill in a place is still a lack", q: "zero experience in kubernetes here, where should our api containers live?", not: []string{"eks"}, want: []string{}},
		{name: "instances launched from an AMI", q: "instances launched from our new AMI never join the domain controller"},
		{name: "launch types without a service name", q: "explain the launch types to me", want: []string{"fargate"}},
		{name: "running them in AWS is an arrival", q: "our containers live on our own servers in a colo today; we'd like to run them in aws with no hosts to look after. what fits?", want: []string{"fargate"}},
		{name: "the least ops on hosts the user babysits", q: "our airflow workers sit on two ec2 machines we babysit; least-ops way to run those containers on aws?", want: []string{"fargate"}},
		{name: "not running a service yet does not reject it", q: "we don't run anything on ecs yet; would it suit a small internal api behind a load balancer?", want: []string{"ecs"}},
		{name: "starting from zero knowledge", q: "we're starting from zero kubernetes knowledge, where should the containers run?", not: []string{"eks"}, want: []string{}},
		{name: "certificates are another product", q: "where do we manage TLS certificates for all our load balancers centrally"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := ix.Answer(context.Background(), index.Query{Text: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			top := a.Top()
			if tt.want == nil {
				if top != nil {
					t.Fatalf("Answer(%q) = %s %v, want a decline", tt.q, top.ID, top.Services)
				}
				return
			}
			if top == nil {
				t.Fatalf("Answer(%q) declined, want an answer", tt.q)
			}
			for _, s := range tt.want {
				if !slices.Contains(top.Services, s) {
					t.Errorf("Answer(%q) top = %s %v, want %q in it", tt.q, top.ID, top.Services, s)
				}
			}
			for _, s := range tt.not {
				if slices.Contains(top.Services, s) {
					t.Errorf("Answer(%q) top = %s %v, want no %q", tt.q, top.ID, top.Services, s)
				}
			}
			for _, s := range top.Services {
				if tt.within != nil && !slices.Contains(tt.within, s) {
					t.Errorf("Answer(%q) top = %s %v, want only services among %v", tt.q, top.ID, top.Services, tt.within)
				}
			}
			switch v := a.Verdict; {
			case tt.verdict == "" && v != nil && v.Asked:
				t.Errorf("Answer(%q) verdict = %+v, want none", tt.q, v)
			case tt.verdict != "" && (v == nil || v.Service != tt.verdict || v.Can != tt.yes):
				t.Errorf("Answer(%q) verdict = %+v, want %s can=%v", tt.q, v, tt.verdict, tt.yes)
			case tt.verdict != "" && !tt.yes && (v.Limit == "" || len(v.Instead) == 0):
				t.Errorf("Answer(%q) verdict = %+v, want the limit and what to use instead", tt.q, v)
			}
		})
	}
}

// TestClarify: a real tie on the orchestrator asks back, and each option
// re-asks the question with the choice settled.
func TestClarify(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	ctx := context.Background()
	a, err := ix.Answer(ctx, index.Query{Text: "spot instances to save money"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Top() == nil || a.Clarify == nil || len(a.Clarify.Options) != 2 {
		t.Fatalf("Answer(spot instances to save money) = %+v, want a best answer and a question back with two options", a)
	}
	for i, want := range []string{"eks", "ecs"} {
		o := a.Clarify.Options[i]
		b, err := ix.Answer(ctx, index.Query{Text: o.Question})
		if err != nil {
			t.Fatal(err)
		}
		if top := b.Top(); top == nil || !slices.Contains(top.Services, want) || b.Clarify != nil {
			t.Errorf("option %q → Answer(%q) = %+v, want %s and no further question", o.Label, o.Question, b, want)
		}
	}
	// A question that settles the orchestrator is not asked back.
	for _, q := range []string{"spot instances to save money on our EKS cluster", "which service for a private docker registry"} {
		b, err := ix.Answer(ctx, index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if b.Clarify != nil {
			t.Errorf("Answer(%q).Clarify = %+v, want none", q, b.Clarify)
		}
	}
}

// TestFollowUp: a follow-up is read in the context of the conversation.
func TestFollowUp(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	ctx := context.Background()
	kube := []index.Turn{{Question: "we run everything on kubernetes with helm charts, where should it live on aws?", Services: []string{"eks"}}}
	tests := []struct {
		history []index.Turn
		q       string
		want    string
	}{
		{kube, "and if we need GPUs?", "eks"},
		{kube, "what about cost?", "eks"},
		{append(kube, index.Turn{Question: "what about cost?", Services: []string{"eks", "ec2"}}), "and what if we need gpus?", "eks"},
		{[]index.Turn{{Question: "we want containers without managing servers on ECS"}}, "and if we need GPUs?", "ecs"},
	}
	for _, tt := range tests {
		a, err := ix.Answer(ctx, index.Query{Text: tt.q, History: tt.history})
		if err != nil {
			t.Fatal(err)
		}
		if top := a.Top(); top == nil || !slices.Contains(top.Services, tt.want) {
			t.Errorf("Answer(%q after %q) = %+v, want %s", tt.q, tt.history[len(tt.history)-1].Question, a.Answers, tt.want)
		}
	}
	// Without the conversation the same words are not enough.
	if a, _ := ix.Answer(ctx, index.Query{Text: "what about cost?"}); a.Confident {
		t.Errorf("Answer(what about cost?) without history = %+v, want a decline", a.Answers)
	}
	// A new question in the same conversation stands on its own.
	a, err := ix.Answer(ctx, index.Query{Text: "private registry for our images with IAM access control", History: kube})
	if err != nil {
		t.Fatal(err)
	}
	if top := a.Top(); top == nil || !slices.Contains(top.Services, "ecr") {
		t.Errorf("Answer(registry after kubernetes) = %+v, want ECR", a.Answers)
	}
}

// A question that names a feature is answered by a document that names it.
func TestFeatureNamed(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, feature := range map[string]string{
		"is pod identity supported on fargate pods or do we still need irsa": "Pod Identity",
		"can express mode services run sidecars":                             "Express Mode",
		"docker hub rate limits in our ecs tasks, pull-through cache?":       "pull through cache",
		"does service connect do retries and timeouts":                       "Service Connect",
		"our eks cluster is on 1.28, what does extended support cost":        "extended support",
		"auto mode vs managed node groups, which costs more":                 "Auto Mode",
	} {
		a := answer(t, ix, q)
		top := a.Top()
		if !a.Confident || top == nil {
			t.Errorf("%q: declined", q)
			continue
		}
		if !top.Contains(feature) {
			t.Errorf("%q: top answer %s does not name %q", q, top.ID, feature)
		}
		ex, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ToLower(ex), "names "+strings.ToLower(feature)) {
			t.Errorf("%q: explain does not show the feature factor", q)
		}
	}
}

// A question that describes a feature without its name is answered by a
// document that names it, as if it had named it.
func TestFeatureDescribed(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, feature := range map[string]string{
		"iam role per pod on eks but skip the whole oidc provider dance, possible?":                                        "Pod Identity",
		"can we do canary deploys on ecs without codedeploy now?":                                                          "canary",
		"want nodes managed by aws on eks incl. upgrades and scaling":                                                      "Auto Mode",
		"dockerhub 429s in CI, want ecr to proxy docker hub":                                                               "pull through cache",
		"how do I attach a disk to a fargate task":                                                                         "EBS",
		"our own servers in the datacenter as worker nodes in an eks cluster":                                              "Hybrid Nodes",
		"our vmware hosts stay in the server room as workers while aws runs the kubernetes control plane, does that work?": "Hybrid Nodes",
		"we run envoy sidecars between ecs services and app mesh is going away, now?":                                      "Service Connect",
	} {
		a := answer(t, ix, q)
		if top := a.Top(); !a.Confident || top == nil || !top.Contains(feature) {
			t.Errorf("Answer(%q) = %+v, want a top answer naming %q", q, top, feature)
		}
	}
}

// What the team knows settles "ECS or EKS?"; doubting Kubernetes keeps it
// a comparison that ECS answers.
func TestKubernetesSkill(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"EKS or ECS? the team already knows Kubernetes":            "eks",
		"ecs or eks, our devs have kubernetes skills":              "eks",
		"ecs or eks? everyone here is comfortable with kubernetes": "eks",
		"ECS vs EKS for us? we have all our helm charts already":   "eks",
		"ECS or EKS, nobody here knows kubernetes":                 "ecs",
		"do we actually need k8s?":                                 "ecs",
	} {
		a := answer(t, ix, q)
		top := a.Top()
		if !a.Confident || top == nil || len(top.Services) == 0 || top.Services[0] != want {
			t.Errorf("Answer(%q) = %+v, want a top answer recommending %s", q, top, want)
		}
	}
}

// Leaving Elastic Beanstalk's Docker platform is a choice of container
// service; Beanstalk on its own is not.
func TestBeanstalkDocker(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"moving off Elastic Beanstalk docker platform, where to?":    "ecs",
		"migrating from beanstalk multi-container docker to what":    "ecs",
		"beanstalk environment health is degraded, nginx 502 errors": "",
		"how do I set env vars on elastic beanstalk":                 "",
	} {
		a := answer(t, ix, q)
		top := a.Top()
		switch {
		case want == "" && a.Confident:
			t.Errorf("Answer(%q) = %+v, want declined", q, top)
		case want != "" && (!a.Confident || top == nil || !slices.Contains(top.Services, want)):
			t.Errorf("Answer(%q) = %+v, want %s", q, top, want)
		}
	}
}

// How-to questions about products outside the domain are declined, even
// with a phrase the knowledge base uses; the same products next to a
// container service are answered.
func TestOutsideHowto(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, answered := range map[string]bool{
		"aws cost explorer shows a jump in NAT gateway data processing, how do I find who is using it":     false,
		"best way to structure terraform modules for a multi-account aws org":                              false,
		"terraform module for an ecs fargate service with an alb, any good ones?":                          true,
		"our ECS tasks on fargate pay a lot of NAT gateway data processing, how do I cut it":               true,
		"our dynamodb table gets throttled every hour on the hour even though consumed capacity looks low": false,
		"cloudfront says the certificate for our frontend does not cover the alternate domain name":        false,
		"where should a celery worker live on aws":                                                         true,
	} {
		a := answer(t, ix, q)
		if a.Confident != answered {
			t.Errorf("Answer(%q).Confident = %v, want %v", q, a.Confident, answered)
		}
	}
}

// A symptom of the user's setup ("can't reach the internet") troubleshoots
// the platform they run: it neither fails them nor is answered by another
// platform, and "what do I need?" doubts nothing.
func TestSymptomStaysOnPlatform(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	q := "our ECS tasks on fargate can't reach the internet to call a 3rd party API, they're in private subnets. what do I need"
	a := answer(t, ix, q)
	if top := a.Top(); !a.Confident || top == nil || !slices.Contains(top.Services, "fargate") {
		t.Errorf("Answer(%q) = %+v, want a Fargate answer", q, top)
	}
}

// A question describing one specific feature is answered by the scenario
// about that feature, ahead of a broader one of the same service that meets
// a generic need or shares more of the question's words.
func TestFeatureSpecific(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, feature := range map[string]string{
		"the nvidia machines in our own dc could join our eks cluster so one scheduler places the training jobs?":                                      "Hybrid Nodes",
		"old images get expired by lifecycle rules in us-east-1, but the images replicated to eu-west-1 never go away. does replication copy deletes?": "replication",
		"we copy our images to two other regions for DR, how do we set that up in ecr and keep the tags the same?":                                     "replication",
		"on our windows ecs hosts the task role credentials never show up inside the app, the sdk falls back to the instance profile":                  "task role",
		"we replicate ecr images to eu-west-1; how do we scan them for vulnerabilities there?":                                                         "image scanning",
		"switching the cluster from self-managed node groups to eks auto mode; can I still make my own nodepool for graviton spot nodes?":              "Auto Mode",
		"kubernetes shop, we just don't want to maintain karpenter. cheapest way to get the nodes managed?":                                            "Auto Mode",
	} {
		a := answer(t, ix, q)
		if top := a.Top(); !a.Confident || top == nil || !top.Contains(feature) {
			t.Errorf("Answer(%q) = %+v, want a top answer naming %q", q, top, feature)
		}
	}
}

// A registry or host inside pasted material (an image reference, a URL, a
// path) says where something comes from, not what the user asks about: it
// names no service when the user's own words name one.
func TestQuotedMaterialNamesNoService(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"our ecs tasks pull public.ecr.aws/docker/library/nginx:1.27 and the health check keeps failing, how do I debug it?": "names: [ecs]",
		"app runner service built from public.ecr.aws/nginx/nginx:latest returns 502 after deploy, what do I check?":         "names: [app-runner]",
		"pods on eks crash after fetching https://ecr-public.example.org/ecr/bootstrap.sh, why?":                             "names: [eks]",
		"is the ecr pull through cache for ghcr.io worth it":                                                                 "names: [ecr]",
	} {
		ex, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ex, want+" ") {
			t.Errorf("Explain(%q) does not say %q", q, want)
		}
	}
}

// A replacement the service itself starts ("ECS starts a replacement
// task") is not one the user wants for it.
func TestReplacementTheServiceStarts(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"after a deploy ECS starts a replacement and the old task keeps draining for minutes, why?":       "leaving: [] ",
		"when a node dies EKS spins up a replacement pod elsewhere, how long does that take":              "leaving: [] ",
		"we need a replacement for ECS, what else is there":                                               "leaving: [ecs] ",
		"lambda times out after 15 min so we need something else instead":                                 "leaving: [lambda] ",
		"fargate has no gpu so we just rent a box elsewhere instead, how do others handle it":             "leaving: [] ",
		"lambda times out after 15 minutes so I split the job into chunks instead, is there a better way": "leaving: [] ",
	} {
		ex, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ex, want) {
			t.Errorf("Explain(%q) does not say %q", q, want)
		}
	}
}

// A Lambda image that will not start on the function's architecture is a
// Lambda question, whatever registry the base image comes from.
func TestLambdaImageArchitecture(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for _, q := range []string{
		"switched our container lambda to graviton and now every invoke dies with exec format error",
		"lambda function from a docker image built on my m1 mac errors on every invoke, base image public.ecr.aws/lambda/python:3.12",
	} {
		a := answer(t, ix, q)
		if top := a.Top(); !a.Confident || top == nil || len(top.Services) == 0 || top.Services[0] != "lambda" {
			t.Errorf("Answer(%q) = %+v, want a Lambda answer", q, top)
		}
	}
}

// A how-to about what happens inside the container itself, with nothing
// about AWS in it, is declined; the same work on an AWS service, or a
// request for where to run it, is answered.
func TestInsideContainerHowto(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, answered := range map[string]bool{
		"how do I lower the JVM heap in a container so it stops getting killed": false,
		"how can I schedule a nightly script in my docker container":            false,
		"how to add a healthcheck in my dockerfile for a flask api":             false,
		"how do we make the docker compose file wait for the database to start": false,
		"how do I run my containerized django app on aws with no servers":       true,
		"how do I deploy a docker compose file to ecs":                          true,
		"how to store secrets for a containerized app on aws":                   true,
		"how do we cut the image size of our lambda container":                  true,
	} {
		a := answer(t, ix, q)
		if a.Confident != answered {
			t.Errorf("Answer(%q).Confident = %v, want %v", q, a.Confident, answered)
		}
	}
}

// A size stated for scratch space ("/tmp is 512MB") is a storage need of
// the user's own: with a large package it asks how to fit it on the
// service, and is answered.
func TestScratchSize(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"the function copies a 900MB onnx file into /tmp at cold start and runs out of room, /tmp is 512MB. how do teams ship big models with lambda?": "lambda",
		"our fargate task needs 60GB of scratch disk for video frames, possible?":                                                                      "fargate",
	} {
		a := answer(t, ix, q)
		if top := a.Top(); !a.Confident || top == nil || !slices.Contains(top.Services, want) {
			t.Errorf("Answer(%q) = %+v, want a %s answer", q, top, want)
		}
	}
}

// "our ECS task won't start" reports a symptom of the user's setup; the
// service itself failing them is "Fargate won't start tasks over 200 GB".
func TestSymptomIsNotFailing(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"our ecs task won't start after the deploy, stuck in provisioning": "leaving: [] failing: [] ",
		"eks pods won't start on fargate, no matching profile":             "leaving: [] failing: [] ",
		"the lambda function from our new image doesn't start, init error": "leaving: [] failing: [] ",
		"fargate won't start tasks that need 200GB of disk":                "leaving: [fargate] failing: [fargate] ",
	} {
		ex, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ex, want) {
			t.Errorf("Explain(%q) does not say %q", q, want)
		}
	}
}

// A feature the user only says they have, while asking about something
// else, does not make the document about it the answer: "we turned on ECS
// Exec already. how do we roll out new versions?" asks about deployments.
func TestSituationalFeature(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for _, q := range []string{
		"we already configured the task role for s3; how should the ecs service scale with the backlog in the queue?",
		"we turned on ecs exec for the tasks already. how do we roll out new versions with zero downtime?",
		"we set up the execution role and task role, now how do we autoscale the ecs service on queue depth?",
	} {
		ex, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ex, "what it is about") {
			t.Errorf("Explain(%q) prefers a document about a feature the user only has", q)
		}
	}
}

// An API or class name pasted into a question is read as the words it is
// made of: "CreatePullThroughCacheRule" names the pull through cache. An
// error type's name stays one word.
func TestIdentifierWords(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, feature := range map[string]string{
		"terraform calls CreatePullThroughCacheRule for quay.io and it is rejected, which upstreams work?": "pull through cache",
		"what does DeleteExpressGatewayService remove besides the ecs service itself?":                     "Express Mode",
	} {
		a := answer(t, ix, q)
		if top := a.Top(); !a.Confident || top == nil || !top.Contains(feature) {
			t.Errorf("Answer(%q) = %+v, want a top answer naming %q", q, top, feature)
		}
	}
	for _, q := range []string{
		"the task stopped with CannotPullContainerError, what does that mean on fargate?",
	} {
		if a := answer(t, ix, q); !a.Confident {
			t.Errorf("Answer(%q) declined", q)
		}
	}
}

// A container service's feature asked about by its name puts a question
// in the domain even next to the tool that deploys it, but not one the
// feature's name shares a clause with an outside product in.
func TestFeatureAnchors(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, answered := range map[string]bool{
		"we write everything in pulumi. how do we move the cluster's services onto managed instances?": true,
		"how do I set a Route 53 failover record for a canary deployment":                              false,
	} {
		if a := answer(t, ix, q); a.Confident != answered {
			t.Errorf("Answer(%q).Confident = %v, want %v", q, a.Confident, answered)
		}
	}
}

// When the user says they have one feature and asks for a need or another
// feature, the answer is about what they ask for: a document about what
// they have gives way to one that meets it.
func TestSituationalFeatureGivesWay(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"service connect is already wired up across our apps; how do we put a few tasks on gpus?":     "GPU",
		"pull through cache is on for docker hub, how do we scan the images for vulnerabilities?":     "scan",
		"we have ecs exec enabled for debugging, how can our tasks run on graviton arm?":              "Graviton",
		"we set up pod identity on the cluster last month, now we want spot nodes for the batch pods": "Spot",
		"irsa is configured on our kubernetes cluster; next we want to schedule some windows pods":    "Windows",
	} {
		a := answer(t, ix, q)
		if top := a.Top(); !a.Confident || top == nil || !top.Contains(want) {
			t.Errorf("Answer(%q) = %+v, want a top answer naming %q", q, top, want)
		}
	}
}

// A question about what the application's own process or build does in
// any container (signals, output buffering, build stages), with nothing
// about AWS in it, is declined whether or not it asks how; the same
// behaviour on a named AWS service, or a request for somewhere to run, is
// answered.
func TestProcessInContainer(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, answered := range map[string]bool{
		"ruby worker in docker never flushes its output, is it buffered?":                               false,
		"java process runs as pid 1 in the container and never reaps zombie processes":                  false,
		"our flask container exits instantly after docker stop, no graceful shutdown":                   false,
		"best base for a distroless image with a rust binary":                                           false,
		"our ecs tasks on fargate spot ignore sigterm and get killed, what do we do?":                   true,
		"fargate task logs never reach cloudwatch, the python output seems buffered":                    true,
		"multi-stage build to shrink the lambda container image under 10 gb":                            true,
		"we need a place to run our containerized go api with sigterm draining, serverless if possible": true,
	} {
		if a := answer(t, ix, q); a.Confident != answered {
			t.Errorf("Answer(%q).Confident = %v, want %v", q, a.Confident, answered)
		}
	}
}

// The Copilot CLI's own nouns ("copilot worker services", "copilot env")
// say a question is about AWS, while another product's "copilot" does not.
func TestCopilotNouns(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, answered := range map[string]bool{
		"two copilot worker services read from one queue and sit idle most of the day, how can they scale down to nothing?": true,
		"github copilot keeps writing broken dockerfiles, any tips?":                                                        false,
	} {
		if a := answer(t, ix, q); a.Confident != answered {
			t.Errorf("Answer(%q).Confident = %v, want %v", q, a.Confident, answered)
		}
	}
}

// Asking for a better option in a clause of its own wants the service
// named before replaced; asking whether one service is a better option
// than another weighs them.
func TestBetterOption(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, avoid := range map[string]string{
		"our django app sits on app runner and the bill keeps growing with steady load. better option for that?": "app-runner",
		"lambda functions behind api gateway, costs climbing with constant traffic, anything better?":            "lambda",
	} {
		a := answer(t, ix, q)
		top := a.Top()
		if !a.Confident || top == nil || slices.Contains(top.Services, avoid) {
			t.Errorf("Answer(%q) = %+v, want a confident answer without %s", q, top, avoid)
		}
	}
	if a := answer(t, ix, "would app runner be a better option than ecs for a tiny internal tool?"); !a.Confident || a.Top() == nil || !slices.Contains(a.Top().Services, "app-runner") {
		t.Errorf("a comparison of two named services drops one of them: %+v", a.Top())
	}
}

// Pointing a workload at a service "instead" heads for that service and
// replaces the one named earlier; "so" ends a negation's clause.
func TestPointAtInstead(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	q := "the render workers need GPUs and fargate can't give them any, so is it fine to point them at ECS Managed Instances instead? standalone tasks too?"
	a := answer(t, ix, q)
	top := a.Top()
	if !a.Confident || top == nil || !slices.Contains(top.Services, "ecs") || slices.Contains(top.Services, "eks") {
		t.Errorf("Answer(%q) = %+v, want a confident ECS answer", q, top)
	}
}

// "Spot" alone is as often about EC2 purchasing as about Spot capacity for
// containers: an exam question weighing EC2 purchase options is declined,
// Spot for ECS services or EKS nodes is answered.
func TestSpotPurchasing(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, answered := range map[string]bool{
		"SAA-C03: a render farm on EC2 runs overnight and interruptions are fine. reserved instances, dedicated hosts or spot blocks, which purchase option is cheapest?": false,
		"can our ECS services use spot capacity to save money on the workers?":                                                                                            true,
	} {
		if a := answer(t, ix, q); a.Confident != answered {
			t.Errorf("Answer(%q).Confident = %v, want %v", q, a.Confident, answered)
		}
	}
}
