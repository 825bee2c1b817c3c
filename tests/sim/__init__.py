"""Simulators of the AWS services moto lacks (IMDS, STS and SSM for DescribeInstanceInformation).

They speak the wire protocols boto3 speaks and judge SigV4's X-Amz-Date against their own clock
with AWS's 5-minute window, answering exactly as AWS does beyond it.
"""
