#!/bin/bash
# Lab STAND-IN for Kafka's bin/kafka-storage.sh: runs lab/standin/kafka
# (random-uuid, format). Not Kafka.
exec /opt/kafka/libs/kafka-standin storage "$@"
