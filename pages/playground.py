"""Playground: placeholder until the Playground issue lands."""

import streamlit as st

import landscapes
import optimizers

st.title("Descent Lab")
name = st.selectbox("Surface", landscapes.names())
surface = landscapes.get(name)
st.caption(surface.lesson)
opt = optimizers.get(st.selectbox("Optimizer", optimizers.names(), index=optimizers.names().index("adam")))
tr = optimizers.run(opt, surface, steps=200)
st.line_chart({"loss": tr.loss})
