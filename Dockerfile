# syntax=docker/dockerfile:1
# The connector image: `docker build -t airbyte/source-aircall-salescaling:0.3.1 .`
# The base image's default must stay identical to connectorBuildOptions.baseImage in
# metadata.yaml (tests/ecosystem/test_metadata.py checks it): Python 3.11, pinned by
# digest. `--build-arg BASE_IMAGE=...` replaces it where it cannot be pulled: `make
# image-test` builds on a stand-in made from Debian packages (scripts/image_test.sh).
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

# Metadata first: every instruction commits a layer, and on a copying storage driver
# (vfs, `make image-test`) one after the install copies the whole installed image again.
LABEL io.airbyte.name="airbyte/source-aircall-salescaling" \
      io.airbyte.version="0.3.1"
# The platform ignores ENTRYPOINT and runs `eval "$AIRBYTE_ENTRYPOINT <verb> ..."`.
ENV AIRBYTE_ENTRYPOINT="source-aircall-salescaling"

WORKDIR /airbyte/integration_code

# Only what the package build needs; tests/ecosystem/test_packaging.py builds and runs a
# wheel from exactly these files, so a file missing here fails that test.
COPY constraints.txt pyproject.toml README.md ./
COPY source_aircall_salescaling ./source_aircall_salescaling

# Installed as root into the image's Python (not editable), with the pinned versions.
RUN pip install --no-cache-dir -c constraints.txt . \
    && rm -rf build source_aircall_salescaling.egg-info

# The base image's non-root user. Recording files go to $AIRBYTE_STAGING_DIRECTORY,
# which the platform mounts writable for it.
USER airbyte
ENTRYPOINT ["source-aircall-salescaling"]
