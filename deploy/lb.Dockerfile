# The load balancer: HAProxy from Debian's package, with deploy/haproxy.cfg, run as the package's
# unprivileged user (so it listens on 8080, published as 8501 by compose.yaml).
FROM debian:bookworm-slim

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy socat \
    && rm -rf /var/lib/apt/lists/* \
    && chown haproxy:haproxy /var/lib/haproxy

COPY haproxy.cfg /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 8080

# the configuration is checked when the image is built
RUN LB_BIND=:8080 haproxy -c -f /etc/haproxy/haproxy.cfg

CMD ["haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
