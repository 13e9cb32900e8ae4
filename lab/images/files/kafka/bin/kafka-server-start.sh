#!/bin/bash
# Lab STAND-IN for Kafka's bin/kafka-server-start.sh: runs lab/standin/kafka.
# Not Kafka. The environment is handled as kafka-server-start.sh and
# kafka-run-class.sh do (apache/kafka bin/): KAFKA_HEAP_OPTS defaults to
# -Xmx1G -Xms1G, EXTRA_ARGS to "-name kafkaServer -loggc"; with
# KAFKA_LOG4J_OPTS set, LOG_DIR (default /opt/kafka/logs) is created; with
# -loggc the GC log is written into LOG_DIR.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"
EXTRA_ARGS=${EXTRA_ARGS-'-name kafkaServer -loggc'}
LOG_DIR="${LOG_DIR:-/opt/kafka/logs}"
if [ -n "$KAFKA_LOG4J_OPTS" ] && [ ! -d "$LOG_DIR" ]; then
  mkdir -p "$LOG_DIR" || exit 1
fi
case " $EXTRA_ARGS " in
*" -loggc "*) : >>"$LOG_DIR/kafkaServer-gc.log" || exit 1 ;;
esac
exec /opt/kafka/libs/kafka-standin server-start "$@"
