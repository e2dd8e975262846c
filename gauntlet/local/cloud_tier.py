"""The cloud tier: moto's server mode as the Artifact Hub AWS account (seed 004), on loopback.

moto (``python -m moto.server``) answers the AWS APIs on 127.0.0.1:5000. :func:`provision`
creates in it, with ordinary boto3 write calls, what the seed's infrastructure document
describes, named as an environment's ``aws`` section says (``environments/local.yaml``):

    Route 53 zone: A/AAAA alias -> CloudFront distribution (ACM certificate in us-east-1,
      web ACL with a rate-based rule) -> origin: the ALB; second origin: an S3 bucket with
      the maintenance page; behaviours for /static/* and /maintenance/*, 5xx -> maintenance page
    ALB (three public subnets, HTTPS with its own ACM certificate, regional web ACL, tags of
      the AWS Load Balancer Controller) -> target group of the node group's EC2 instances
    RDS PostgreSQL per named instance: Multi-AZ, encrypted, 7 days of backups, deletion
      protection, private subnets only, reachable from the nodes' security group only; its port
      that of the local database tier's endpoint (the database it stands for)
    EKS cluster and managed node group (6..10), private ECR repositories with commit-tagged images

The hub target group uses instance targets: moto derives a target's state from its EC2
instance only (IP targets are always "healthy"), so a stopped node is the one unhealthy
target moto can show. Fault profiles (tier ``cloud``) change what is provisioned; a change
of faults resets moto (``POST /moto-api/reset``) and provisions again. What moto does not
model is in :data:`LIMITS`; the checks report those parts ``not-checked``.

The process has a pid file and a log under ``state_dir()/cloud``; ``down`` signals only the
process group whose leader's command line is our moto server on our port.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3
import httpx
import trustme

from gauntlet import paths
from gauntlet.cloud import acm, elbv2, rds
from gauntlet.cloud.session import GLOBAL_REGION
from gauntlet.environment import Aws, load_environment
from gauntlet.exceptions import LocalStackError
from gauntlet.local import processes, tier_state
from gauntlet.local.faults import FAULTS
from gauntlet.urls import is_loopback
from gauntlet.waiting import until

HOST = "127.0.0.1"
PORT = 5000
ENDPOINT_URL = f"http://{HOST}:{PORT}"
PROFILE = "gauntlet-local"
#: moto accepts any key; these only have to be present.
ACCESS_KEY = ("gauntlet-local", "moto-accepts-any-secret")
MAINTENANCE_PAGE = b"<!doctype html><title>Artifact Hub</title><h1>Sorry, we're down for maintenance</h1>\n"
_HEALTHY_WITHIN_S = 30.0

#: What a local run cannot prove, by check area; the suite reports these parts not-checked.
LIMITS = {
    "target-health": elbv2.MOTO_TARGET_HEALTH,
    "acm-renewal-eligibility": acm.MOTO_RENEWAL_ELIGIBILITY,
    "rds-failover": rds.MOTO_FAILOVER,
    "waf-enforcement": "moto stores web ACLs and associations but filters no request: a rate limit is configuration here, "
                       "never shown blocking a burst",
    "cloudfront-serving": "moto stores the distribution's configuration; nothing is served or cached through it",
}


def tier_dir() -> Path:
    return paths.state_dir() / "cloud"


def credentials_file() -> Path:
    """The shared credentials file of profile ``gauntlet-local`` (``aws.credentials_file`` in local.yaml)."""
    return tier_dir() / "aws" / "credentials"


def _pid_file() -> Path:
    return tier_dir() / "run" / "moto.pid"


def _state_file() -> Path:
    return tier_dir() / "run" / "state.json"


def _log() -> Path:
    return tier_dir() / "logs" / "moto.log"


def moto_argv(port: int = PORT) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


#: How our moto server's command line reads in /proc (NUL-separated arguments, the port whole).
_MOTO_CMDLINE = "\0".join(moto_argv()[1:]) + "\0"


def moto_env() -> dict[str, str]:
    """moto's process environment: ACM issues DNS-validated certificates at once."""
    return {**os.environ, "MOTO_ACM_VALIDATION_WAIT": "0"}


def start_moto(port: int, log: Path, pid_file: Path | None = None) -> subprocess.Popen:
    """Start a moto server on loopback in its own session (also used by the harness's tests, on other ports)."""
    return processes.start(moto_argv(port), log, pid_file=pid_file, env=moto_env())


def answers(endpoint_url: str) -> bool:
    try:
        return httpx.get(f"{endpoint_url}/moto-api/", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_answering(endpoint_url: str, proc: subprocess.Popen | None, log: Path, within_s: float = _HEALTHY_WITHIN_S) -> None:
    def answering() -> bool:
        if answers(endpoint_url):
            return True
        if proc is not None and proc.poll() is not None:
            raise LocalStackError(f"moto exited at start (code {proc.returncode}): see {log}")
        return False

    until(answering, within_s, 0.1, lambda: f"moto did not answer on {endpoint_url} within {within_s:.0f} s: see {log}",
          error=LocalStackError)


def reset(endpoint_url: str) -> None:
    """Forget every resource moto holds (``POST /moto-api/reset``)."""
    httpx.post(f"{endpoint_url}/moto-api/reset", timeout=10.0).raise_for_status()


def running_pid() -> int | None:
    """The pid of our moto server, if it runs (its command line is moto.server on our port)."""
    return processes.running_pid(_pid_file(), _MOTO_CMDLINE)


def local_aws() -> Aws:
    """The ``aws`` section of the bundled ``environments/local.yaml``: what to provision."""
    aws = load_environment("local", paths.ROOT / "environments").aws
    if aws is None:
        raise LocalStackError("environments/local.yaml has no aws section: nothing to provision")
    return aws


def up(faults: Sequence[str] = (), progress: Callable[[str], None] = print) -> dict:
    """Start moto if it is not running; provision it with these fault profiles unless it already is."""
    wanted = sorted(set(faults))
    wrong = [f for f in wanted if f not in FAULTS or FAULTS[f].tier != "cloud"]
    if wrong:
        cloud = sorted(n for n, f in FAULTS.items() if f.tier == "cloud")
        raise LocalStackError(f"not a cloud fault profile: {', '.join(wrong)}: the cloud tier's are {', '.join(cloud)}")
    aws = local_aws()
    for sub in ("run", "logs", "aws"):
        (tier_dir() / sub).mkdir(parents=True, exist_ok=True)
    pid = running_pid()
    if pid is None:
        processes.ensure_free(HOST, PORT, "moto")
        progress(f"starting moto on {HOST}:{PORT}")
        proc = start_moto(PORT, _log(), pid_file=_pid_file())
        wait_answering(ENDPOINT_URL, proc, _log())
        pid = proc.pid
    else:
        wait_answering(ENDPOINT_URL, None, _log())
    state = tier_state.read(_state_file())
    if state is None or state.get("pid") != pid or state.get("faults") != wanted:
        if state is not None and state.get("pid") == pid:
            progress("cloud fault profiles changed: resetting moto")
            reset(ENDPOINT_URL)
        progress(f"provisioning the Artifact Hub account in moto ({', '.join(wanted) or 'no faults'})")
        _state_file().unlink(missing_ok=True)
        resources = provision(aws, ENDPOINT_URL, wanted)
        tier_state.write(_state_file(), {"pid": pid, "faults": wanted, "resources": resources})
    _write_credentials()
    return status()


def _write_credentials() -> None:
    text = f"[{PROFILE}]\naws_access_key_id = {ACCESS_KEY[0]}\naws_secret_access_key = {ACCESS_KEY[1]}\n"
    path = credentials_file()
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def down() -> None:
    """Stop the moto server this tier started (by its pid file), and nothing else."""
    processes.stop(_pid_file(), _MOTO_CMDLINE)
    _state_file().unlink(missing_ok=True)


def status() -> dict:
    """moto's health, address and pid, what is provisioned with which faults, and how clients reach it."""
    pid = running_pid()
    state = tier_state.read(_state_file()) or {}
    provisioned = pid is not None and state.get("pid") == pid
    return {
        "moto": {"healthy": pid is not None and provisioned and answers(ENDPOINT_URL), "address": f"{HOST}:{PORT}", "pid": pid},
        "endpoint_url": ENDPOINT_URL,
        "profile": PROFILE,
        "credentials_file": str(credentials_file()),
        "faults": state.get("faults", []) if provisioned else [],
        "resources": state.get("resources", {}) if provisioned else {},
        "limits": LIMITS,
    }


# --------------------------------------------------------------------------- provisioning


def provision(aws: Aws, endpoint_url: str, faults: Sequence[str] = ()) -> dict:
    """Create the Artifact Hub account in the moto server at ``endpoint_url``; the ids it generated.

    Writes, so never through the read-only probe clients, and only ever to loopback.
    """
    if not is_loopback(endpoint_url):
        raise LocalStackError(f"refusing to provision {endpoint_url}: the cloud tier writes to a loopback moto server only")
    return _Provisioner(aws, endpoint_url, set(faults)).run()


class _Provisioner:
    def __init__(self, aws: Aws, endpoint_url: str, faults: set[str]) -> None:
        self.aws, self.endpoint_url, self.faults = aws, endpoint_url, faults
        self.region = aws.region
        self.zones = [f"{aws.region}{z}" for z in "abc"]
        self.out: dict[str, Any] = {"region": aws.region}

    def client(self, service: str, region: str | None = None) -> Any:
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.endpoint_url,
                            aws_access_key_id=ACCESS_KEY[0], aws_secret_access_key=ACCESS_KEY[1])

    def run(self) -> dict:
        self.network()
        self.nodes()
        self.databases()
        certificates = self.certificates()
        lb = self.load_balancer(certificates.get("alb"))
        acls = self.web_acls(lb)
        self.distribution(lb, certificates.get("cloudfront"), acls.get("cloudfront"))
        self.dns(certificates)
        self.registry()
        return self.out

    # --- VPC as eksctl makes it: public and private subnets in three zones
    def network(self) -> None:
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        public, private = [], []
        for i, zone in enumerate(self.zones):
            pub = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
            ec2.modify_subnet_attribute(SubnetId=pub, MapPublicIpOnLaunch={"Value": True})
            ec2.associate_route_table(RouteTableId=public_rt, SubnetId=pub)
            priv = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{10 + i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
            ec2.associate_route_table(RouteTableId=private_rt, SubnetId=priv)
            public.append(pub)
            private.append(priv)
        nodes_sg = ec2.create_security_group(GroupName="eks-nodes", Description="EKS nodes", VpcId=vpc)["GroupId"]
        alb_sg = ec2.create_security_group(GroupName="hub-alb", Description="hub ALB", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for p in (80, 443)])
        db_sg = ec2.create_security_group(GroupName="rds-postgresql", Description="PostgreSQL from the EKS nodes",
                                          VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": _database_port(), "ToPort": _database_port(),
             "UserIdGroupPairs": [{"GroupId": nodes_sg}]}])
        self.vpc, self.public, self.private = vpc, public, private
        self.sg = {"nodes": nodes_sg, "alb": alb_sg, "db": db_sg}
        self.out.update(vpc=vpc, public_subnets=public, private_subnets=private, security_groups=self.sg)

    # --- EKS cluster, managed node group and its EC2 instances
    def nodes(self) -> None:
        ec2, eks = self.client("ec2"), self.client("eks")
        size = self.aws.node_group_size
        count = size.min if size else 3
        amazon_linux = [{"Name": "name", "Values": ["al2023-ami-2023*x86_64"]}]  # filtered: all 1300 of moto's take 1.7 s
        images = ec2.describe_images(Owners=["amazon"], Filters=amazon_linux)["Images"] or ec2.describe_images(Owners=["amazon"])["Images"]
        image = images[0]["ImageId"]
        cluster, group = self.aws.eks_cluster or "cluster", self.aws.node_group or "nodes"
        self.instances = []
        for i in range(count):
            made = ec2.run_instances(
                ImageId=image, InstanceType="m5.xlarge", MinCount=1, MaxCount=1, SubnetId=self.private[i % 3],
                SecurityGroupIds=[self.sg["nodes"]],
                TagSpecifications=[{"ResourceType": "instance", "Tags": [
                    {"Key": "eks:cluster-name", "Value": cluster}, {"Key": "eks:nodegroup-name", "Value": group}]}])
            self.instances.append(made["Instances"][0]["InstanceId"])
        self.out["node_instances"] = self.instances
        if self.aws.eks_cluster:
            eks.create_cluster(name=cluster, version="1.30", roleArn=_arn("iam", "", "role/eks-cluster"),
                               resourcesVpcConfig={"subnetIds": self.public + self.private, "securityGroupIds": [self.sg["nodes"]]})
            if self.aws.node_group:
                low, high = (size.min, size.max) if size else (count, count)
                eks.create_nodegroup(clusterName=cluster, nodegroupName=group, subnets=self.private,
                                     scalingConfig={"minSize": low, "maxSize": high, "desiredSize": count},
                                     instanceTypes=["m5.xlarge"], nodeRole=_arn("iam", "", "role/eks-nodes"))

    # --- RDS PostgreSQL, one instance per name
    def databases(self) -> None:
        if not self.aws.rds_instances:
            return
        rdsc = self.client("rds")
        subnet_group = f"{self.aws.rds_instances[0]}-private"
        rdsc.create_db_subnet_group(DBSubnetGroupName=subnet_group, DBSubnetGroupDescription="private subnets of the EKS VPC",
                                    SubnetIds=self.private)
        port = _database_port()
        for name in self.aws.rds_instances:
            rdsc.create_db_instance(
                DBInstanceIdentifier=name, Engine="postgres", EngineVersion="16.4", DBInstanceClass="db.m6g.large",
                AllocatedStorage=100, MasterUsername="hub", MasterUserPassword=uuid.uuid4().hex,
                MultiAZ="db-single-az" not in self.faults, StorageEncrypted=True, BackupRetentionPeriod=7,
                DeletionProtection=True, PubliclyAccessible=False, DBSubnetGroupName=subnet_group,
                VpcSecurityGroupIds=[self.sg["db"]], Port=port)
        self.out["rds_instances"] = list(self.aws.rds_instances)

    # --- ACM: CloudFront's certificate in us-east-1, the ALB's in its region
    def certificates(self) -> dict[str, str]:
        domain = self.aws.domain
        if not domain:
            return {}
        certs = {}
        for use, region in (("cloudfront", GLOBAL_REGION), ("alb", self.region)):
            client = self.client("acm", region)
            if "cert-not-renewable" in self.faults:
                ca = trustme.CA()
                leaf = ca.issue_cert(domain, f"*.{domain}")
                certs[use] = client.import_certificate(
                    Certificate=leaf.cert_chain_pems[0].bytes(), PrivateKey=leaf.private_key_pem.bytes(),
                    CertificateChain=ca.cert_pem.bytes())["CertificateArn"]
            else:
                certs[use] = client.request_certificate(DomainName=domain, SubjectAlternativeNames=[domain, f"*.{domain}"],
                                                        ValidationMethod="DNS")["CertificateArn"]
        self.out["certificates"] = certs
        return certs

    # --- the ALB the AWS Load Balancer Controller makes from the hub ingress
    def load_balancer(self, certificate: str | None) -> dict | None:
        if not self.aws.load_balancer:
            return None
        elb, ec2 = self.client("elbv2"), self.client("ec2")
        subnets = self.public[:1] if "alb-one-az" in self.faults else self.public
        tags = [{"Key": "elbv2.k8s.aws/cluster", "Value": self.aws.eks_cluster or "cluster"},
                {"Key": "ingress.k8s.aws/stack", "Value": "artifacthub/hub"},
                {"Key": "ingress.k8s.aws/resource", "Value": "LoadBalancer"}]
        lb = elb.create_load_balancer(Name=self.aws.load_balancer, Subnets=subnets, SecurityGroups=[self.sg["alb"]],
                                      Scheme="internet-facing", Type="application", IpAddressType="ipv4", Tags=tags)["LoadBalancers"][0]
        group_name = "k8s-artifac-hub-" + hashlib.sha1(self.aws.load_balancer.encode()).hexdigest()[:10]
        group = elb.create_target_group(Name=group_name, Protocol="HTTP", Port=30080, VpcId=self.vpc, TargetType="instance",
                                        HealthCheckPath="/health", HealthCheckIntervalSeconds=10, HealthyThresholdCount=2,
                                        UnhealthyThresholdCount=2, Tags=tags[:2])["TargetGroups"][0]
        elb.modify_target_group_attributes(TargetGroupArn=group["TargetGroupArn"], Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
        elb.register_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": i, "Port": 30080} for i in self.instances])
        if "target-unhealthy" in self.faults:
            ec2.stop_instances(InstanceIds=[self.instances[1]])
            self.out["stopped_instance"] = self.instances[1]
        forward = [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]
        if certificate:
            elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, DefaultActions=forward,
                                Certificates=[{"CertificateArn": certificate}], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
        self.out["load_balancer"] = {"arn": lb["LoadBalancerArn"], "dns_name": lb["DNSName"], "target_group": group["TargetGroupArn"]}
        return lb

    # --- WAF: a web ACL with a rate-based rule on CloudFront and on the ALB
    def web_acls(self, lb: dict | None) -> dict[str, str]:
        acls = {}
        for use, name, scope, region in (("cloudfront", self.aws.web_acl, "CLOUDFRONT", GLOBAL_REGION),
                                         ("alb", self.aws.alb_web_acl, "REGIONAL", self.region)):
            if not name or (use == "alb" and lb is None):
                continue
            waf = self.client("wafv2", region)
            rules = [_managed_rules(priority=1)]
            if "waf-missing-rate-rule" not in self.faults:
                rules.insert(0, _rate_rule(limit=2000, priority=0))
            acl = waf.create_web_acl(Name=name, Scope=scope, DefaultAction={"Allow": {}}, Rules=rules,
                                     VisibilityConfig=_visibility(name))["Summary"]
            if use == "alb" and lb is not None:
                waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=lb["LoadBalancerArn"])
            acls[use] = acl["ARN"]
        self.out["web_acls"] = acls
        return acls

    # --- CloudFront: ALB origin, S3 maintenance origin, behaviours, error pages
    def distribution(self, lb: dict | None, certificate: str | None, web_acl: str | None) -> None:
        if lb is None or not self.aws.domain:
            return
        s3 = self.client("s3", GLOBAL_REGION)
        bucket = (self.aws.domain.replace(".", "-")[:40] + "-maintenance").lower()
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="maintenance/index.html", Body=MAINTENANCE_PAGE, ContentType="text/html")
        alb_origin, s3_origin = "hub-alb", "maintenance-s3"
        config = {
            "CallerReference": uuid.uuid4().hex,
            "Comment": f"Artifact Hub ({self.aws.domain})",
            "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": [self.aws.domain]},
            "Origins": {"Quantity": 2, "Items": [
                {"Id": alb_origin, "DomainName": lb["DNSName"], "CustomOriginConfig": {
                    "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}},
                {"Id": s3_origin, "DomainName": f"{bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}},
            ]},
            "DefaultCacheBehavior": _behaviour(alb_origin, query_string=True),
            "CacheBehaviors": {"Quantity": 2, "Items": [
                {**_behaviour(alb_origin, query_string=False), "PathPattern": "/static/*"},
                {**_behaviour(s3_origin, query_string=False), "PathPattern": "/maintenance/*"},
            ]},
            "CustomErrorResponses": {"Quantity": 3, "Items": [
                {"ErrorCode": code, "ResponsePagePath": "/maintenance/index.html", "ResponseCode": "503", "ErrorCachingMinTTL": 10}
                for code in (502, 503, 504)]},
            "ViewerCertificate": {"ACMCertificateArn": certificate or "", "SSLSupportMethod": "sni-only",
                                  "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": not certificate},
            "WebACLId": web_acl or "",
            "HttpVersion": "http2and3",
        }
        made = self.client("cloudfront", GLOBAL_REGION).create_distribution(DistributionConfig=config)["Distribution"]
        self.out["distribution"] = {"id": made["Id"], "domain_name": made["DomainName"], "maintenance_bucket": bucket}

    # --- Route 53: the alias records and the certificates' DNS validation records
    def dns(self, certificates: dict[str, str]) -> None:
        if not self.aws.hosted_zone:
            return
        route53 = self.client("route53", GLOBAL_REGION)
        zone = route53.create_hosted_zone(Name=self.aws.hosted_zone, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]
        changes = []
        distribution = self.out.get("distribution")
        if distribution and self.aws.domain:
            for kind in ("A", "AAAA"):
                changes.append({"Action": "UPSERT", "ResourceRecordSet": {
                    "Name": self.aws.domain, "Type": kind, "AliasTarget": {
                        "HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": distribution["domain_name"], "EvaluateTargetHealth": False}}})
        validation = {}
        for arn in certificates.values():
            region = arn.split(":")[3]
            described = self.client("acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
            for option in described.get("DomainValidationOptions") or []:
                record = option.get("ResourceRecord")
                if record:
                    validation[record["Name"]] = record["Value"]
        for name, value in validation.items():
            changes.append({"Action": "UPSERT", "ResourceRecordSet": {
                "Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": value}]}})
        if changes:
            route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
        self.out["hosted_zone"] = zone

    # --- ECR: private repositories, an image per master commit
    def registry(self) -> None:
        ecr = self.client("ecr")
        for name in self.aws.ecr_repositories:
            try:
                ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE",
                                      imageScanningConfiguration={"scanOnPush": True})
            except ecr.exceptions.RepositoryAlreadyExistsException:
                continue  # staging and production share the account's registry
            sha = hashlib.sha1(f"{name}@master".encode()).hexdigest()
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                                   "digest": "sha256:" + hashlib.sha256(name.encode()).hexdigest()}, "layers": []}
            ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageTag=sha)
        self.out["ecr_repositories"] = list(self.aws.ecr_repositories)


def _database_port() -> int:
    """The port of the local database tier's endpoint (``database.port`` of local.yaml): the RDS instance
    stands for that database. moto lets the port be set, not the address (``<id>.aaaaaaaaaa.<region>.rds
    .amazonaws.com``, derived from the identifier)."""
    db = load_environment("local", paths.ROOT / "environments").database
    return db.port if db is not None else 5432


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:123456789012:{resource}"


def _visibility(name: str) -> dict:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name.replace("-", "")[:128]}


def _rate_rule(limit: int, priority: int) -> dict:
    return {"Name": "rate-limit-per-ip", "Priority": priority, "Action": {"Block": {}},
            "Statement": {"RateBasedStatement": {"Limit": limit, "AggregateKeyType": "IP"}},
            "VisibilityConfig": _visibility("ratelimitperip")}


def _managed_rules(priority: int) -> dict:
    return {"Name": "aws-common-rules", "Priority": priority, "OverrideAction": {"None": {}},
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}},
            "VisibilityConfig": _visibility("awscommonrules")}


def _behaviour(origin: str, query_string: bool) -> dict:
    """A legacy cache behaviour that honours the origin's Cache-Control (MinTTL 0) and redirects HTTP to HTTPS."""
    return {
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"], "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": True,
        "ForwardedValues": {"QueryString": query_string, "Cookies": {"Forward": "none"}},
        "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 31536000,
    }
