"""The guide's app as the guide writes it: the baseline ``make bench`` measures against.

An ``async def`` endpoint that validates the five v1 features with Pydantic
and calls ``model.predict`` on a scikit-learn model loaded with joblib at
import; no TLS, no credential, no rate limit, no prediction log. Served the
way the guide serves it: ``uvicorn bench.guide_app:app --workers 2``, access
log on (Uvicorn's default). Its model is its own artifact, trained from the
same data by ``bench/guide_model.py``; the path comes from ``GUIDE_MODEL``.
"""

import os

import joblib
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
model = joblib.load(os.environ.get("GUIDE_MODEL", "model.joblib"))


class HousingFeatures(BaseModel):
    lotsize: float
    bedrooms: int
    bathrms: int
    stories: int
    garagepl: int


@app.post("/predict")
async def predict(features: HousingFeatures) -> dict[str, float]:
    data = [
        [features.lotsize, features.bedrooms, features.bathrms, features.stories, features.garagepl]
    ]
    prediction = model.predict(data)
    return {"predicted_price": float(prediction[0])}
