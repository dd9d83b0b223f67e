"""EC2: the subnets and security groups verify reads, and the managed prefix lists a rule may name."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc: str
    zone: str
    cidr: str


@dataclass(frozen=True)
class Ingress:
    """One inbound permission of a security group, by what it admits."""

    cidrs: tuple[str, ...]
    ipv6_cidrs: tuple[str, ...]
    security_groups: tuple[str, ...]
    prefix_lists: tuple[str, ...]


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    ingress: tuple[Ingress, ...]


class Ec2(ServiceApi):
    service = "ec2"

    def subnet_cidrs(self, subnet_ids: list[str]) -> list[str]:
        return [subnet.cidr for subnet in self.subnets(subnet_ids)]

    def subnets(self, subnet_ids: list[str]) -> list[Subnet]:
        if not subnet_ids:
            return []
        return [Subnet(s["SubnetId"], s["VpcId"], s["AvailabilityZone"], s["CidrBlock"])
                for s in self._call("DescribeSubnets", SubnetIds=subnet_ids)["Subnets"]]

    def internet_routed(self, vpc_id: str, subnet_ids: list[str]) -> set[str]:
        """Those of the subnets whose route table (their own, else the VPC's main one) sends traffic to an internet
        gateway; the VPC's route tables are read once."""
        tables = self._call("DescribeRouteTables", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]

        def routed(subnet_id: str) -> bool:
            own = [t for t in tables if any(a.get("SubnetId") == subnet_id for a in t.get("Associations", []))]
            used = own or [t for t in tables if any(a.get("Main") for a in t.get("Associations", []))]
            return any(str(r.get("GatewayId", "")).startswith("igw-") for t in used for r in t.get("Routes", []))

        return {subnet_id for subnet_id in subnet_ids if routed(subnet_id)}

    def security_groups(self, group_ids: list[str]) -> list[SecurityGroup]:
        if not group_ids:
            return []
        return [SecurityGroup(g["GroupId"], tuple(
            Ingress(tuple(r["CidrIp"] for r in p.get("IpRanges", [])), tuple(r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])),
                    tuple(r.get("GroupId", "") for r in p.get("UserIdGroupPairs", [])),
                    tuple(r["PrefixListId"] for r in p.get("PrefixListIds", [])))
            for p in g.get("IpPermissions", [])))
            for g in self._call("DescribeSecurityGroups", GroupIds=group_ids)["SecurityGroups"]]

    def prefix_list_cidrs(self, prefix_list: str) -> list[str]:
        return [e["Cidr"] for e in self._call("GetManagedPrefixListEntries", PrefixListId=prefix_list)["Entries"]]
