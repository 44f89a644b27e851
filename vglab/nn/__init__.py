"""Layers, activations, containers and losses, with PyTorch's names and an explicit backward."""

from .grad_mode import no_grad, enable_grad, is_grad_enabled
from .module import Parameter, Module
from .sequential import Sequential
from .linear import Linear, Flatten
from .activations import Sigmoid, Tanh, ReLU, ELU, GELU, Softplus
from .rectifiers import LeakyReLU, PReLU
from .losses import MSELoss, CrossEntropyLoss, softmax, log_softmax
from .conv import Conv2d
from .pool import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .residual import Residual
from .norm import BatchNorm1d, BatchNorm2d
from .recurrent import RNN, LSTM, GRU, LastStep
from .cells import RNNCell, LSTMCell, GRUCell

__all__ = [
    "Parameter", "Module", "Sequential", "no_grad", "enable_grad", "is_grad_enabled",
    "Linear", "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Residual",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Softplus",
    "BatchNorm1d", "BatchNorm2d",
    "RNN", "LSTM", "GRU", "LastStep", "RNNCell", "LSTMCell", "GRUCell",
    "MSELoss", "CrossEntropyLoss", "softmax", "log_softmax",
]
