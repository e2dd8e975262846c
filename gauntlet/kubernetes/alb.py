"""What the AWS Load Balancer Controller reads and writes on namespaces and pods (seed 004): the namespace
label that asks it for readiness gates, and the condition type of the gate it injects into each new pod
and sets True once the pod is a healthy target of its load balancer."""

#: A namespace labelled ``INJECT_LABEL=INJECT_VALUE`` gets readiness gates injected into its new pods.
INJECT_LABEL, INJECT_VALUE = "elbv2.k8s.aws/pod-readiness-gate-inject", "enabled"
#: The condition type of a gate: this prefix, then the name of the TargetGroupBinding.
READINESS_GATE_PREFIX = "target-health.elbv2.k8s.aws/"
