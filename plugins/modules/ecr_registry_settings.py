#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_registry_settings
short_description: Scanning and replication of a private ECR registry, merged with what is there
version_added: 0.1.0
description:
  - Manages the settings of an account's private registry in one region that every repository shares -
    image scanning (C(PutRegistryScanningConfiguration)) and replication to other regions and accounts
    (C(PutReplicationConfiguration)). Each is managed only when given.
  - Others may manage the same settings (another team, the console), so by default nothing they wrote is
    removed - scanning filters are added to the rule of the same frequency, replication rules are added
    when missing. O(scanning.replace) and O(replication.replace) make ours the whole configuration.
    Changing the scan type (BASIC, ENHANCED) affects every repository and is refused without replace.
  - AWS's rules are checked before any call (moto accepts much of what AWS refuses, for example BASIC
    scanning with C(CONTINUOUS_SCAN)), and once more on the configuration merged with what is there (at most 10
    replication rules, 25 destinations, 100 filters a rule) before any write. Check mode makes no write; diff mode
    shows each setting before and after.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  scanning:
    description: The registry's image scanning.
    type: dict
    suboptions:
      scan_type:
        description: V(BASIC) (scan on push) or V(ENHANCED) (Amazon Inspector, scan on push or continuous).
        type: str
        choices: [BASIC, ENHANCED]
        default: BASIC
      rules:
        description:
          - At most 2 rules, one per C(frequency) - V(SCAN_ON_PUSH) (BASIC or ENHANCED) or V(CONTINUOUS_SCAN)
            (ENHANCED), each with 1 to 100 C(filters) (repository names with C(*) wildcards).
        type: list
        elements: dict
      replace:
        description: Make these rules the whole configuration, and allow changing the scan type.
        type: bool
        default: false
  replication:
    description: The registry's replication.
    type: dict
    suboptions:
      rules:
        description:
          - 1 to 10 rules, each with C(destinations) (C(region), and C(account_id) for another account's registry,
            which must allow it in its registry policy) and optional C(filters) (repository name prefixes, such as
            C(example-org/) or C(team-)); at most 25 destinations in all. A rule someone else wrote is kept as it is,
            C(deleteReplication) included.
        type: list
        elements: dict
      replace:
        description: Make these rules the whole configuration (rules of others are removed).
        type: bool
        default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Needs C(ecr:DescribeRegistry), C(ecr:GetRegistryScanningConfiguration), and for changes
    C(ecr:PutRegistryScanningConfiguration), C(ecr:PutReplicationConfiguration) (ENHANCED scanning also needs
    Amazon Inspector permissions).
  - Lifecycle policies act only in their own region - a replica needs its own (run M(cloudops.ecr.ecr_lifecycle)
    there).
"""

EXAMPLES = r"""
- name: Scan on push for the team's repositories, whoever else scans what
  cloudops.ecr.ecr_registry_settings:
    scanning:
      rules:
        - frequency: SCAN_ON_PUSH
          filters: ["example-org/*"]

- name: Replicate the team's images to the pro region
  cloudops.ecr.ecr_registry_settings:
    replication:
      rules:
        - destinations: [{region: us-east-1}]
          filters: [example-org]
"""

RETURN = r"""
changes:
  description: C(scanning), C(replication) - what was (in check mode, would be) written.
  returned: always
  type: list
  elements: str
registry_id:
  description: The registry's account id.
  returned: always
  type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.ecr_registry_settings import (
    EcrRegistrySettingsRunner,
)

ARGUMENT_SPEC = dict(
    scanning=dict(
        type="dict",
        options=dict(
            scan_type=dict(type="str", choices=["BASIC", "ENHANCED"], default="BASIC"),
            rules=dict(type="list", elements="dict"),
            replace=dict(type="bool", default=False),
        ),
    ),
    replication=dict(
        type="dict",
        options=dict(rules=dict(type="list", elements="dict"), replace=dict(type="bool", default=False)),
    ),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_one_of=[("scanning", "replication")]
    )
    EcrRegistrySettingsRunner(module).run()


if __name__ == "__main__":
    main()
