#!/usr/bin/env bash
# Apache Kafka for the local stack: jars resolved from Maven Central through
# deploy/kafka/pom.xml (cached in ~/.m2), one KRaft broker+controller on
# 127.0.0.1 with its data under .local/kafka, started with the machine's Java.
# Idempotent.   kafka.sh start | stop | status | jars (resolve only: the bench's tools)
source "$(dirname "$0")/common.sh"
KDIR="$LOCAL/kafka"
LIBS="$KDIR/libs"
DATA="$KDIR/data"
POM="$ROOT/deploy/kafka/pom.xml"
KLOG="$LOGS/kafka.log"
PIDF="$RUN/kafka.pid"

resolve_jars() {
  local stamp="$LIBS/.pom.sha256" want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required"; exit 1; }
  log "resolving Kafka jars from Maven Central"
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -B -q -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS"
  echo "$want" >"$stamp"
}

write_config() {
  mkdir -p "$DATA"
  sed -e "s#@LOG_DIRS@#$DATA#" -e "s#@PORT@#$KAFKA_PORT#" \
      -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#" -e "s#@PARTITIONS@#$TOPIC_PARTITIONS#" \
      "$ROOT/deploy/kafka/server.properties.in" >"$KDIR/server.properties"
  if [[ ! -f "$KDIR/cluster.id" ]]; then
    # 16 random bytes, URL-safe base64 without padding (what kafka-storage random-uuid prints).
    python3 -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))' >"$KDIR/cluster.id"
  fi
}

format_storage() {
  if [[ ! -f "$DATA/meta.properties" ]]; then
    log "formatting Kafka storage in $DATA"
    java -cp "$LIBS/*" -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.yaml" \
      kafka.tools.StorageTool format -t "$(cat "$KDIR/cluster.id")" \
      -c "$KDIR/server.properties" --ignore-formatted >>"$KLOG" 2>&1
  fi
}

start() {
  resolve_jars
  write_config
  format_storage
  if pid_alive "$PIDF"; then
    log "Kafka already running (pid $(cat "$PIDF"))"
  else
    log "starting Kafka on 127.0.0.1:$KAFKA_PORT"
    : >"$KLOG.start"
    nohup java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.yaml" \
      -cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties" >"$KLOG" 2>&1 </dev/null &
    echo $! >"$PIDF"
    # Ready = the log says so AND a client metadata request succeeds (an open port is not ready).
    for _ in $(seq 1 120); do
      grep -q "Kafka Server started" "$KLOG" && break
      pid_alive "$PIDF" || { log "Kafka exited; see $KLOG"; tail -20 "$KLOG" >&2; exit 1; }
      sleep 0.5
    done
    grep -q "Kafka Server started" "$KLOG" || { log "Kafka did not start in 60 s; see $KLOG"; exit 1; }
  fi
  "$VENV/bin/jsb" kafka ensure-topics --bootstrap "127.0.0.1:$KAFKA_PORT" --partitions "$TOPIC_PARTITIONS"
}

stop() {
  if pid_alive "$PIDF"; then
    log "stopping Kafka (pid $(cat "$PIDF"))"
    kill "$(cat "$PIDF")"
    for _ in $(seq 1 60); do pid_alive "$PIDF" || break; sleep 0.5; done
    pid_alive "$PIDF" && kill -9 "$(cat "$PIDF")"
  fi
  rm -f "$PIDF"
}

status() {
  if pid_alive "$PIDF"; then echo "kafka     running  pid $(cat "$PIDF")  127.0.0.1:$KAFKA_PORT"
  else echo "kafka     stopped"; fi
}

jars() { resolve_jars; }

"${1:-start}"
