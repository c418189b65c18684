"""Which pricer prices which resource type, in which category, and the types that cost nothing."""

from __future__ import annotations

import re

from hyper_registry.kinds.infra.pricers_aws import (
    aws_cache,
    aws_db,
    aws_dynamodb,
    aws_instance,
    aws_lambda,
    aws_lb,
    aws_logs,
    aws_s3,
    aws_volume,
    nat_gateway,
)
from hyper_registry.kinds.infra.pricers_other import (
    azure_aks,
    azure_blob,
    azure_disk,
    azure_lb,
    azure_pg,
    azure_sqldb,
    azure_vm,
    gcp_bucket,
    gcp_disk,
    gcp_sql,
    k8s_pvc,
    k8s_workload,
)
from hyper_registry.kinds.infra.pricing import Pricer, flat_hour, flat_month, hourly

PRICERS: dict[str, tuple[str, Pricer]] = {}


def _add(category: str, pricer: Pricer, *types: str) -> None:
    for t in types:
        PRICERS[t] = (category, pricer)


_add("compute", aws_instance, "aws_instance", "AWS::EC2::Instance", "ec2", "ec2_instance")
_add(
    "database",
    aws_db,
    "aws_db_instance",
    "aws_rds_cluster_instance",
    "AWS::RDS::DBInstance",
    "rds_instance",
)
_add("storage", aws_volume, "aws_ebs_volume", "AWS::EC2::Volume", "ec2_vol")
_add("storage", aws_s3, "aws_s3_bucket", "AWS::S3::Bucket", "s3_bucket")
_add(
    "network",
    aws_lb,
    "aws_lb",
    "aws_alb",
    "aws_elb",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancing::LoadBalancer",
)
_add(
    "network",
    nat_gateway,
    "aws_nat_gateway",
    "AWS::EC2::NatGateway",
    "google_compute_router_nat",
    "azurerm_nat_gateway",
)
_add("network", flat_hour("Public IPv4 address", "publicIpv4Hour"), "aws_eip", "AWS::EC2::EIP")
_add("database", aws_cache, "aws_elasticache_cluster", "AWS::ElastiCache::CacheCluster")
_add("compute", aws_lambda, "aws_lambda_function", "AWS::Lambda::Function")
_add("database", aws_dynamodb, "aws_dynamodb_table", "AWS::DynamoDB::Table")
_add(
    "compute",
    flat_hour("EKS control plane", "eksClusterHour"),
    "aws_eks_cluster",
    "AWS::EKS::Cluster",
)
_add("other", flat_month("KMS key", "kmsKeyMonth"), "aws_kms_key", "AWS::KMS::Key")
_add(
    "other",
    flat_month("Secret", "secretMonth"),
    "aws_secretsmanager_secret",
    "AWS::SecretsManager::Secret",
)
_add(
    "network",
    flat_month("Hosted zone", "route53ZoneMonth"),
    "aws_route53_zone",
    "AWS::Route53::HostedZone",
)
_add("other", aws_logs, "aws_cloudwatch_log_group", "AWS::Logs::LogGroup")
_add(
    "network",
    flat_hour("Interface endpoint", "vpcEndpointHour"),
    "aws_vpc_endpoint",
    "AWS::EC2::VPCEndpoint",
)
_add("compute", hourly("VM instance", "instanceHour", "machine_type"), "google_compute_instance")
_add("database", gcp_sql, "google_sql_database_instance")
_add("storage", gcp_disk, "google_compute_disk")
_add("storage", gcp_bucket, "google_storage_bucket")
_add(
    "network",
    flat_hour("Forwarding rule", "forwardingRuleHour"),
    "google_compute_forwarding_rule",
    "google_compute_global_forwarding_rule",
)
_add(
    "network",
    flat_hour("Static IP address", "staticIpHour"),
    "google_compute_address",
    "google_compute_global_address",
)
_add("compute", flat_hour("GKE cluster management", "gkeClusterHour"), "google_container_cluster")
_add("compute", azure_vm, "azurerm_linux_virtual_machine", "azurerm_virtual_machine")
_add("storage", azure_disk, "azurerm_managed_disk")
_add("storage", azure_blob, "azurerm_storage_account")
_add("network", azure_lb, "azurerm_lb")
_add("network", flat_hour("Public IP address", "publicIpHour"), "azurerm_public_ip")
_add("database", azure_pg, "azurerm_postgresql_flexible_server")
_add("database", azure_sqldb, "azurerm_mssql_database")
_add("compute", azure_aks, "azurerm_kubernetes_cluster")
_add(
    "compute",
    k8s_workload,
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Rollout",
    "Pod",
)
_add("storage", k8s_pvc, "PersistentVolumeClaim")

FREE = re.compile(
    r"^(?:aws_(?:vpc|subnet|security_group.*|route.*|iam_.*|internet_gateway|egress_only_internet_gateway"
    r"|network_acl.*|default_.*|[a-z_]*subnet_group|db_parameter_group|flow_log|lambda_permission|s3_bucket_.+"
    r"|vpc_block_public_access_.*"
    r"|launch_template|key_pair|vpc_ipv4_cidr_block_association|vpc_ipv6_cidr_block_association"
    r"|main_route_table_association|vpc_dhcp_options.*|lb_listener.*"
    r"|lb_target_group.*|customer_gateway|vpn_gateway.*|cloudwatch_log_resource_policy)"
    r"|AWS::(?:EC2::(?:VPC|Subnet|SecurityGroup.*|RouteTable|Route|SubnetRouteTableAssociation"
    r"|InternetGateway|VPCGatewayAttachment|NetworkAcl.*|SubnetNetworkAclAssociation|LaunchTemplate|KeyPair)"
    r"|IAM::.*|Lambda::Permission|S3::BucketPolicy|Logs::.*Policy"
    r"|ElasticLoadBalancingV2::(?:Listener.*|TargetGroup))"
    r"|google_(?:compute_network|compute_subnetwork|compute_firewall|compute_router|project_iam_.*"
    r"|service_account.*|storage_bucket_iam_.*)"
    r"|azurerm_(?:resource_group|virtual_network|subnet.*|network_security_.*|network_interface.*"
    r"|role_assignment|user_assigned_identity)"
    r"|random_.*|null_resource|terraform_data|time_.*|tls_.*|local_file"
    r"|Service|Ingress|ConfigMap|Secret|ServiceAccount|Role|ClusterRole|RoleBinding|ClusterRoleBinding"
    r"|NetworkPolicy|PodDisruptionBudget|HorizontalPodAutoscaler|Namespace|CustomResourceDefinition"
    r"|ServiceMonitor|PodMonitor|Application|AppProject|HTTPRoute|Gateway"
    r"|ec2_group|ec2_security_group|amazon\.aws\.ec2_security_group)$"
)
