# Descent Lab: the Streamlit app in a small image, run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt \
    && useradd --create-home --uid 10001 descent

COPY app.py ./
COPY .streamlit ./.streamlit
COPY assets ./assets
COPY specs ./specs
COPY landscapes ./landscapes
COPY optimizers ./optimizers
COPY viz ./viz
COPY descent_lab ./descent_lab
COPY app_pages ./app_pages
COPY static ./static

USER descent
EXPOSE 8501

# slim images have no curl: ask Streamlit's health endpoint with Python
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]

CMD ["streamlit", "run", "app.py", \
     "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", \
     "--browser.gatherUsageStats=false", "--client.showErrorDetails=none", \
     "--server.fileWatcherType=none"]
